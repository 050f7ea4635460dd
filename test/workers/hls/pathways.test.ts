// Per-viewer playlist edits for stadium nodes: explicit node pathways in a multivariant, absolute node links in a media playlist.
import { describe, expect, it } from "vitest";
import { absolutizeUris, addNodePathways, setInitialPathway } from "../../../workers/hls/pathways";

const MV = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="edge"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud",PATHWAY-ID="edge"
v360/index.m3u8
`;
const BASE = "http://10.0.0.5:8080/play/TOKEN/index.m3u8";

describe("addNodePathways", () => {
  it("appends each variant and its renditions per node pathway, with absolute node URIs and renamed groups", () => {
    const out = addNodePathways(MV, [{ pathwayIds: ["pz-n", "pz-n.k1"], playlistUrl: BASE }]);
    expect(out.startsWith(MV)).toBe(true);
    expect(out.slice(MV.length)).toBe(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud-pz-n",NAME="en",URI="http://10.0.0.5:8080/play/TOKEN/audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud-pz-n",PATHWAY-ID="pz-n"
http://10.0.0.5:8080/play/TOKEN/v360/index.m3u8
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud-pz-n.k1",NAME="en",URI="http://10.0.0.5:8080/play/TOKEN/audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud-pz-n.k1",PATHWAY-ID="pz-n.k1"
http://10.0.0.5:8080/play/TOKEN/v360/index.m3u8
`,
    );
  });

  it("leaves the playlist as it is without nodes", () => {
    expect(addNodePathways(MV, [])).toBe(MV);
  });
});

describe("setInitialPathway", () => {
  it("changes only the steering tag's PATHWAY-ID", () => {
    const out = setInitialPathway(MV, "pz-n.k1");
    expect(out).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="pz-n.k1"`);
    expect(out).toContain(`AUDIO="aud",PATHWAY-ID="edge"`);
  });
});

describe("absolutizeUris", () => {
  it("points every segment, map and key at the node, keeping every other line", () => {
    const media = `#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1"\r\n#EXTINF:2.0,\r\nseg-1.ts\r\n`;
    expect(absolutizeUris(media, "http://10.0.0.5:8080/play/TOKEN/v360/index.m3u8")).toBe(
      `#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-MAP:URI="http://10.0.0.5:8080/play/TOKEN/v360/init.mp4"\r\n#EXT-X-KEY:METHOD=AES-128,URI="http://10.0.0.5:8080/play/TOKEN/keys/k1"\r\n#EXTINF:2.0,\r\nhttp://10.0.0.5:8080/play/TOKEN/v360/seg-1.ts\r\n`,
    );
  });
});
