// Login and password rules: what a viewer may type, and the one normal form a login is stored and compared under.
import { z } from "@hono/zod-openapi";

/**
 * The key an account is found by: NFKC (so full-width "ｆｄｐｄ６" and "fdpd6" are one login), then lower case,
 * then NFKC again because lower-casing can leave a string that is no longer normalised.
 */
export function loginKey(login: string): string {
  return login.normalize("NFKC").toLowerCase().normalize("NFKC");
}

// Letters and digits of any script, their combining marks, and a few separators. No spaces, controls or
// invisible format characters: those make logins that look identical but are not.
const LOGIN_CHARS = /^[\p{L}\p{M}\p{N}._@+-]+$/u;

export const LoginSchema = z
  .string()
  .max(256)
  .transform((s) => s.normalize("NFKC"))
  .pipe(
    z
      .string()
      .min(3, "at least 3 characters")
      .max(64, "at most 64 characters")
      .regex(LOGIN_CHARS, "letters, digits, '.', '_', '-', '+' or '@' only"),
  )
  .openapi({ type: "string", minLength: 3, maxLength: 64, example: "fdpd6", description: "Case-insensitive; compared after Unicode NFKC normalisation" });

// Six characters is the floor because the prototype's demo account uses `123456`; PBKDF2 and the
// login throttle, not the length rule, are what stand between a guesser and an account.
export const PasswordSchema = z
  .string()
  .max(1024)
  .transform((s) => s.normalize("NFKC"))
  .pipe(z.string().min(6, "at least 6 characters").max(256, "at most 256 characters"))
  .openapi({ type: "string", minLength: 6, maxLength: 256, example: "123456", format: "password" });

export const CredentialsSchema = z.object({ login: LoginSchema, password: PasswordSchema }).openapi("Credentials");
export type Credentials = z.infer<typeof CredentialsSchema>;

/**
 * What a login request may send. The length and character rules above are for choosing credentials, at
 * registration; at login a password that breaks them is simply wrong (401, counted by the login throttle),
 * so the answer does not teach a guesser the rules. The 64 KiB body limit bounds the password; the login keeps
 * the outer bound registration applies before normalising, so every login that could exist gets through.
 */
export const LoginRequestSchema = z
  .object({
    login: z.string().max(256).openapi({ example: "fdpd6", description: "Case-insensitive; compared after Unicode NFKC normalisation" }),
    password: z
      .string()
      .transform((s) => s.normalize("NFKC"))
      .openapi({ type: "string", example: "123456", format: "password" }),
  })
  .openapi("LoginRequest");

/** Whether a login meets the registration rules, that is, whether any account can have it. */
export function isRegistrableLogin(login: string): boolean {
  return LoginSchema.safeParse(login).success;
}
