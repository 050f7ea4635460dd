// `npm run web`: builds the web pages' scripts into public/js/ (npm start and the tests do this on their own).
import { buildWeb, WEB_OUT_DIR } from "./lib/build-web";

buildWeb();
console.log(`web scripts built into ${WEB_OUT_DIR}`);
