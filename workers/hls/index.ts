// Public API of the pure HLS module: parse origin playlists, map URLs to play keys, rewrite playlists.
export {
  lexicalParse,
  joinLines,
  parseAttributeList,
  semanticParse,
  parsePlaylist,
  PlaylistError,
  MAX_PLAYLIST_LENGTH,
} from "./parse";
export type {
  Attribute,
  BlankLine,
  ByteRange,
  CommentLine,
  IFrameVariant,
  Key,
  LexedPlaylist,
  Line,
  LineEnding,
  MediaInitialization,
  Part,
  PlaylistInfo,
  PreloadHint,
  Rendition,
  RenditionReport,
  Resolution,
  Segment,
  SessionData,
  TagLine,
  UriLine,
  Variant,
} from "./parse";
export {
  toPlayKey,
  fromPlayKey,
  relativeUri,
  PlayKeyError,
  MAX_PLAY_KEY_LENGTH,
  MULTIVARIANT_KEY,
  STEERING_KEY,
} from "./paths";
export type { ChannelOrigin } from "./paths";
export { rewritePlaylist, NoVariantFitsError } from "./rewrite";
export type { RewriteOptions, RewriteResult, SteeringOptions } from "./rewrite";
