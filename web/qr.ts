// QR codes of goods codes, drawn in the page by qrcode-generator (bundled; nothing from a CDN): a kiosk's scanner
// reads the code off the viewer's screen and types it into the kiosk page as if it were typed by hand.
import qrcode from "qrcode-generator";

/** An <img> of a QR code holding `text` (upper-case letters and digits, QR's compact alphanumeric mode). */
export function qrImage(text: string, alt: string): HTMLImageElement {
  const qr = qrcode(0, "M");
  qr.addData(text, "Alphanumeric");
  qr.make();
  const img = document.createElement("img");
  // 6 px modules and the 4-module quiet zone the QR standard asks for: about 150 px for a 10-character code.
  img.src = qr.createDataURL(6, 24);
  img.alt = alt;
  img.className = "qr";
  img.width = img.height = qr.getModuleCount() * 6 + 48;
  return img;
}

/** A goods code as people read it, in two groups of five (the API sends it without separators). */
export function groupedCode(code: string): string {
  return code.length === 10 ? `${code.slice(0, 5)}-${code.slice(5)}` : code;
}
