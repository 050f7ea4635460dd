#!/usr/bin/env bash
# Builds the demo origin's real H.264/AAC media (live source loop + VOD fixture sets) and its renditions manifest.
#
# Usage: scripts/make-media.sh            (from anywhere; writes workers/demo-origin/media/,
#                                           media-manifest.json and ll-media-manifest.json)
#        scripts/make-media.sh ll         (the LL-HLS set alone: media/ll/ and ll-media-manifest.json)
# Needs ffmpeg/ffprobe (libx264, native aac, drawtext optional) and jq. Output is deterministic for a
# given ffmpeg build: single-threaded x264, bitexact muxers, x264's version SEI stripped, fixed AES key
# and IV. MPEG-TS files are written as .m2t (see the end of this script); URLs still say .ts.
set -euo pipefail
set -f # no globbing: the ffmpeg expressions below contain '*'

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO="$ROOT/workers/demo-origin"
OUT="$DEMO/media"
MANIFEST="$DEMO/media-manifest.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

FPS=25
SEG=2                        # seconds per segment; the worker reads it (and the rest) from the manifest
GOP=$((FPS * SEG))           # one keyframe exactly at every segment start
LOOP_SEGMENTS=5              # live source loop length in segments (10 s)
VOD_SEGMENTS=3
LOOP_SECONDS=$((LOOP_SEGMENTS * SEG))
VOD_SECONDS=$((VOD_SEGMENTS * SEG))

# drawtext needs a font file; without one the clock is skipped and the pattern alone is burnt in.
FONT=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf \
         /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \
         /usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf; do
  if [[ -f "$f" ]]; then FONT="$f"; break; fi
done

# (Listed into a variable first: `ffmpeg | grep -q` under pipefail fails when grep stops reading early.)
FILTERS="$(ffmpeg -hide_banner -filters 2>/dev/null)"
if [[ "$FILTERS" != *" drawtext "* ]]; then FONT=""; fi

# label <text> -> a drawtext filter (or "null") that burns in the label, the media time and the frame number.
label() {
  if [[ -z "$FONT" ]]; then echo "null"; return; fi
  local esc="fontfile=$FONT:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6"
  echo "drawtext=$esc:fontsize=h/14:x=(w-tw)/2:y=h/20:text='$1',drawtext=$esc:fontsize=h/10:x=(w-tw)/2:y=h-th-h/8:text='%{pts\\:hms}  #%{eif\\:n\\:d}  seg %{eif\\:floor(t/$SEG)\\:d}'"
}

# Shared encoder flags: H.264 with a closed GOP of exactly SEG seconds, AAC-LC 48 kHz stereo.
x264() { # <profile> <level> <kbps>
  echo "-c:v libx264 -preset veryfast -tune zerolatency -threads 1 -pix_fmt yuv420p -profile:v $1 -level:v $2
        -b:v ${3}k -maxrate $(( $3 * 12 / 10 ))k -bufsize $(( $3 * 2 ))k
        -g $GOP -keyint_min $GOP -sc_threshold 0 -force_key_frames expr:gte(t,n_forced*$SEG)
        -bsf:v filter_units=remove_types=6 -flags:v +bitexact"
}
aac() { echo "-c:a aac -b:a ${1}k -ar 48000 -ac 2 -flags:a +bitexact"; }
common_out() { echo "-fflags +bitexact -map_metadata -1 -muxdelay 0 -muxpreload 0"; }

# Test pattern plus a 440 Hz tone that beeps once a second; 440 Hz fits a whole number of periods in
# the loop, so the wrap back to segment 0 is inaudible apart from the expected discontinuity.
video_src() { echo "-f lavfi -i testsrc2=size=640x360:rate=$FPS:duration=$1"; }
audio_src() { echo "-f lavfi -i sine=frequency=${2:-440}:beep_factor=${3:-2}:sample_rate=48000:duration=$1"; }

hls_out() { # <dir> <segment ext> [extra hls flags...]
  local dir="$1" ext="$2"; shift 2
  echo "-f hls -hls_time $SEG -hls_list_size 0 -hls_playlist_type vod -hls_flags independent_segments
        -hls_segment_filename $dir/seg-%d.$ext $*"
}

# codec_of <media file> -> "avc1.PPCCLL,mp4a.40.N", read off the SPS and the AAC profile.
codec_of() {
  local file="$1" sps pf cs lv aot
  # trace_headers prints the SPS fields, including the constraint flags ffprobe does not expose.
  sps="$(ffmpeg -hide_banner -loglevel trace -i "$file" -map 0:v:0 -c:v copy -bsf:v trace_headers -f null - 2>&1 \
         | grep -E 'profile_idc|constraint_set[0-5]_flag|reserved_zero_2bits|level_idc' | head -9)"
  pf=$(awk '/profile_idc/{print $NF; exit}' <<<"$sps")
  # The bit string sits two fields before the value: six one-bit flags then the two reserved bits.
  cs=$(awk '/constraint_set[0-5]_flag|reserved_zero_2bits/{b=b $(NF-2)} END{print b}' <<<"$sps")
  lv=$(awk '/level_idc/{print $NF; exit}' <<<"$sps")
  aot=$(ffprobe -v error -select_streams a:0 -show_entries stream=profile -of csv=p=0 "$file" | head -1)
  case "$aot" in LC) aot=2;; HE-AAC) aot=5;; HE-AACv2) aot=29;; *) aot=2;; esac
  printf 'avc1.%02x%02x%02x,mp4a.40.%s' "$pf" "$((2#$cs))" "$lv" "$aot"
}

# ---- LL-HLS set: CMAF parts of 0.5 s, each opening on a key frame, LL_PARTS of them per 2 s segment.
LL_FPS=24                 # 12 frames per part: every part starts on a key frame at an exact frame boundary
LL_PART=0.5               # seconds per part (EXT-X-PART-INF PART-TARGET)
LL_PARTS=4                # parts per segment; SEG / LL_PART
LL_LOOP_SEGMENTS=4        # 8 s loop, kept short: a key frame every 12 frames makes these files dense
LL_SECONDS=$((LL_LOOP_SEGMENTS * SEG))
LL_MANIFEST="$DEMO/ll-media-manifest.json"

# make_ll_media -> media/ll/<rendition>/{init.mp4,seg-<n>.m4s} and ll-media-manifest.json. ffmpeg's HLS
# muxer cuts one fMP4 fragment (styp, moof, mdat) per part; a segment file is its parts concatenated, and
# the manifest records each part's size, so the worker serves a part as its slice of the segment.
make_ll_media() {
  local dir="$OUT/ll" spec id size kbps profile level akbps src parts s p entries="" probe codecs durations
  echo "== ll ($LL_LOOP_SEGMENTS x ${SEG}s segments of $LL_PARTS x ${LL_PART}s CMAF parts)"
  rm -rf "$dir" && mkdir -p "$dir"
  for spec in "360p 640x360 200 high 3.0 48" "180p 320x180 80 main 2.1 32"; do
    read -r id size kbps profile level akbps <<<"$spec"
    src="$TMP/ll-$id" && mkdir -p "$src" "$dir/$id"
    # shellcheck disable=SC2046
    ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$size:rate=$LL_FPS:duration=$LL_SECONDS" \
      $(audio_src $LL_SECONDS) -vf "$(label "Balancer LL $id")" \
      $(GOP=$((LL_FPS / 2)) SEG=$LL_PART x264 "$profile" "$level" "$kbps") $(aac "$akbps") $(common_out) \
      -f hls -hls_time "$LL_PART" -hls_list_size 0 -hls_playlist_type vod -hls_flags independent_segments \
      -hls_segment_type fmp4 -hls_segment_options movflags=+skip_sidx -hls_fmp4_init_filename init.mp4 \
      -hls_segment_filename "$src/part-%d.m4s" "$src/source.m3u8"
    cp "$src/init.mp4" "$dir/$id/init.mp4"
    for s in $(seq 0 $((LL_LOOP_SEGMENTS - 1))); do
      parts=""
      for p in $(seq 0 $((LL_PARTS - 1))); do parts="$parts $src/part-$((s * LL_PARTS + p)).m4s"; done
      # shellcheck disable=SC2086
      cat $parts > "$dir/$id/seg-$s.m4s"
    done
    probe="$TMP/ll-probe.mp4" && cat "$dir/$id/init.mp4" "$dir/$id/seg-0.m4s" > "$probe"
    codecs="$(codec_of "$probe")"
    durations="$(grep -E '^#EXTINF:' "$src/source.m3u8" | sed 's/#EXTINF:\([0-9.]*\),.*/\1/' | jq -s -c 'map(tonumber)')"
    entries="$entries$(
      for p in $(seq 0 $((LL_LOOP_SEGMENTS * LL_PARTS - 1))); do stat -c %s "$src/part-$p.m4s"; done | jq -s -c \
        --arg id "$id" --arg codecs "$codecs" --arg resolution "$size" --argjson fps "$LL_FPS" --argjson n "$LL_PARTS" \
        --argjson durations "$durations" --argjson init "$(stat -c %s "$dir/$id/init.mp4")" \
        --arg initDigest "$(sha256sum "$dir/$id/init.mp4" | cut -d' ' -f1)" \
        --argjson digests "$(for s in $(seq 0 $((LL_LOOP_SEGMENTS - 1))); do sha256sum "$dir/$id/seg-$s.m4s" | cut -d' ' -f1; done | jq -R . | jq -s -c .)" '
        . as $sizes | [range(0; $sizes|length; $n)] as $starts |
        ($starts | map($sizes[. : . + $n] | add)) as $segBytes |
        ($starts | map($durations[. : . + $n] | add)) as $segDurations |
        {
          id: $id, codecs: $codecs, resolution: $resolution, frameRate: $fps,
          bandwidth: ([range(0; $segBytes|length)] | map($segBytes[.] * 8 / $segDurations[.]) | max | ceil),
          averageBandwidth: (($segBytes|add) * 8 / ($segDurations|add) | ceil),
          initBytes: $init, initSha256: $initDigest,
          segmentBytes: $segBytes, segmentSha256: $digests,
          partBytes: ($starts | map($sizes[. : . + $n])), partDurations: ($starts | map($durations[. : . + $n]))
        }')"
  done
  jq -s --argjson seg "$SEG" --argjson part "$LL_PART" --argjson n "$LL_LOOP_SEGMENTS" \
    '{ segmentSeconds: $seg, partSeconds: $part, loopSegments: $n, renditions: . }' <<<"$entries" > "$TMP/ll-manifest.json"
  mv "$TMP/ll-manifest.json" "$LL_MANIFEST"
}

# `scripts/make-media.sh ll` rebuilds the LL-HLS set alone and leaves the rest of media/ as it is.
if [[ "${1:-}" == "ll" ]]; then
  make_ll_media
  jq -c '.renditions[] | {id, codecs, resolution, bandwidth, averageBandwidth}' "$LL_MANIFEST"
  du -sh "$OUT/ll"
  exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT/live" "$OUT/vod"

echo "== live source loop ($LOOP_SEGMENTS x ${SEG}s)"
# 360p is encoded once and packaged twice (TS and fMP4): the two packagings carry the same samples with
# the same timestamps, so they differ only in the container.
mkdir -p "$OUT/live/ts-360p" "$OUT/live/fmp4-360p" "$OUT/live/ts-180p"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $LOOP_SECONDS) $(audio_src $LOOP_SECONDS) \
  -vf "$(label 'Balancer demo 360p')" $(x264 high 3.0 300) $(aac 64) \
  $(common_out) -f mpegts "$TMP/mezz-360p.ts"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y -i "$TMP/mezz-360p.ts" -c copy -map 0 $(common_out) \
  $(hls_out "$OUT/live/ts-360p" ts) "$OUT/live/ts-360p/source.m3u8"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y -i "$TMP/mezz-360p.ts" -c copy -bsf:a aac_adtstoasc -map 0 $(common_out) \
  $(hls_out "$OUT/live/fmp4-360p" m4s -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4) \
  "$OUT/live/fmp4-360p/source.m3u8"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $LOOP_SECONDS) $(audio_src $LOOP_SECONDS) \
  -vf "scale=320:180,$(label 'Balancer demo 180p')" $(x264 main 2.1 120) $(aac 48) \
  $(common_out) $(hls_out "$OUT/live/ts-180p" ts) "$OUT/live/ts-180p/source.m3u8"

echo "== vod/ts (multivariant, 2 TS renditions)"
mkdir -p "$OUT/vod/ts"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $VOD_SECONDS) $(audio_src $VOD_SECONDS) \
  -filter_complex "[0:v]split=2[a][b];[a]scale=480:270,$(label 'VOD ts 270p')[v0];[b]scale=320:180,$(label 'VOD ts 180p')[v1]" \
  -map "[v0]" -map 1:a -map "[v1]" -map 1:a \
  $(x264 main 3.0 250) $(aac 48) -b:v:1 100k -maxrate:v:1 120k -bufsize:v:1 200k \
  $(common_out) -var_stream_map "v:0,a:0,name:270p v:1,a:1,name:180p" -master_pl_name index.m3u8 \
  $(hls_out "$OUT/vod/ts/%v" ts) "$OUT/vod/ts/%v/index.m3u8"

echo "== vod/fmp4 (EXT-X-MAP)"
mkdir -p "$OUT/vod/fmp4"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $VOD_SECONDS) $(audio_src $VOD_SECONDS) \
  -vf "scale=320:180,$(label 'VOD fmp4')" $(x264 main 2.1 100) $(aac 48) \
  $(common_out) -var_stream_map "v:0,a:0,name:180p" -master_pl_name index.m3u8 \
  $(hls_out "$OUT/vod/fmp4/%v" m4s -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4) \
  "$OUT/vod/fmp4/%v/index.m3u8"

echo "== vod/aes128 (EXT-X-KEY METHOD=AES-128)"
mkdir -p "$OUT/vod/aes128/180p"
# Fixed key and IV keep the output reproducible; this is a public test fixture, not a secret.
printf '\000\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017' > "$OUT/vod/aes128/180p/enc.key" # 00 01 … 0f
printf 'enc.key\n%s\n%s\n' "$OUT/vod/aes128/180p/enc.key" "f0e1d2c3b4a5968778695a4b3c2d1e0f" > "$TMP/keyinfo"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $VOD_SECONDS) $(audio_src $VOD_SECONDS) \
  -vf "scale=320:180,$(label 'VOD aes128')" $(x264 main 2.1 100) $(aac 48) \
  $(common_out) -var_stream_map "v:0,a:0,name:180p" -master_pl_name index.m3u8 \
  $(hls_out "$OUT/vod/aes128/%v" ts -hls_key_info_file "$TMP/keyinfo") \
  "$OUT/vod/aes128/%v/index.m3u8"

echo "== vod/byterange (single file, EXT-X-BYTERANGE)"
mkdir -p "$OUT/vod/byterange"
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $VOD_SECONDS) $(audio_src $VOD_SECONDS) \
  -vf "scale=320:180,$(label 'VOD byterange')" $(x264 main 2.1 100) $(aac 48) \
  $(common_out) -var_stream_map "v:0,a:0,name:180p" -master_pl_name index.m3u8 \
  -f hls -hls_time $SEG -hls_list_size 0 -hls_playlist_type vod \
  -hls_flags independent_segments+single_file -hls_segment_filename "$OUT/vod/byterange/%v/all.ts" \
  "$OUT/vod/byterange/%v/index.m3u8"

echo "== vod/alt-audio (video-only variant + EXT-X-MEDIA audio in en and de)"
mkdir -p "$OUT/vod/alt-audio"
# English is the 440 Hz tone, German a 660 Hz tone with a faster beep, so a switch is audible.
# The audio runs 40 ms short: AAC priming would otherwise spill one 21 ms frame into a 4th segment.
AUDIO_SECONDS=$(jq -n "$VOD_SECONDS - 0.04")
# shellcheck disable=SC2046
ffmpeg -hide_banner -loglevel error -y $(video_src $VOD_SECONDS) $(audio_src "$AUDIO_SECONDS" 440 2) \
  $(audio_src "$AUDIO_SECONDS" 660 4) \
  -vf "scale=320:180,$(label 'VOD alt-audio')" -map 0:v -map 1:a -map 2:a \
  $(x264 main 2.1 100) $(aac 48) \
  $(common_out) \
  -var_stream_map "v:0,agroup:aud,name:video a:0,agroup:aud,language:en,name:audio-en,default:yes a:1,agroup:aud,language:de,name:audio-de" \
  -master_pl_name index.m3u8 \
  $(hls_out "$OUT/vod/alt-audio/%v" ts) "$OUT/vod/alt-audio/%v/index.m3u8"
# ffmpeg names renditions audio_1, audio_2; players show NAME in their menus, so give them real names.
sed -i 's/NAME="audio_1"/NAME="English"/; s/NAME="audio_2"/NAME="Deutsch"/' "$OUT/vod/alt-audio/index.m3u8"

# ---- manifest: codec strings, bandwidths and resolutions the worker's multivariant playlist needs

# rendition_json <id> <container> <dir> <ext> -> one manifest entry from the files on disk.
rendition_json() {
  local id="$1" container="$2" dir="$3" ext="$4" probe codecs w h sizes digests durations
  probe="$dir/seg-0.$ext"
  [[ "$container" == "fmp4" ]] && { cat "$dir/init.mp4" "$dir/seg-0.$ext" > "$TMP/probe.mp4"; probe="$TMP/probe.mp4"; }
  codecs="$(codec_of "$probe")"
  read -r w h < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$probe" | tr x ' ')
  sizes="$(for i in $(seq 0 $((LOOP_SEGMENTS - 1))); do stat -c %s "$dir/seg-$i.$ext"; done | jq -s -c .)"
  # Digests let tests check that bytes served (directly or through the edge) are the source files.
  digests="$(for i in $(seq 0 $((LOOP_SEGMENTS - 1))); do sha256sum "$dir/seg-$i.$ext" | cut -d' ' -f1; done | jq -R . | jq -s -c .)"
  durations="$(grep -E '^#EXTINF:' "$dir/source.m3u8" | sed 's/#EXTINF:\([0-9.]*\),.*/\1/' | jq -s -c 'map(tonumber)')"
  jq -n -c --arg id "$id" --arg container "$container" --arg ext "$ext" --arg codecs "$codecs" \
    --argjson w "$w" --argjson h "$h" --argjson fps "$FPS" --argjson sizes "$sizes" --argjson durations "$durations" \
    --argjson digests "$digests" \
    --argjson init "$([[ $container == fmp4 ]] && stat -c %s "$dir/init.mp4" || echo null)" \
    --argjson initDigest "$([[ $container == fmp4 ]] && sha256sum "$dir/init.mp4" | cut -d' ' -f1 | jq -R . || echo null)" '
    {
      id: $id, container: $container, segmentExtension: $ext, codecs: $codecs,
      resolution: "\($w)x\($h)", frameRate: $fps,
      bandwidth: ([range(0; $sizes|length)] | map($sizes[.] * 8 / $durations[.]) | max | ceil),
      averageBandwidth: (($sizes|add) * 8 / ($durations|add) | ceil),
      initBytes: $init, initSha256: $initDigest,
      segmentBytes: $sizes, segmentSha256: $digests, segmentDurations: $durations
    }'
}

{
  rendition_json ts-360p ts "$OUT/live/ts-360p" ts
  rendition_json ts-180p ts "$OUT/live/ts-180p" ts
  rendition_json fmp4-360p fmp4 "$OUT/live/fmp4-360p" m4s
} | jq -s --argjson seg "$SEG" --argjson n "$LOOP_SEGMENTS" \
  '{ segmentSeconds: $seg, loopSegments: $n, renditions: . }' > "$TMP/manifest.json"
# Replaced in one step, so a running `wrangler dev` never rebuilds against a half-written manifest.
mv "$TMP/manifest.json" "$MANIFEST"

make_ll_media

set +f
# The source playlists were only needed for the durations above; the worker builds live playlists itself.
rm -f "$OUT"/live/*/source.m3u8
# MPEG-TS files are stored as .m2t: the root tsconfig includes workers/, and tsc would read a .ts file
# as TypeScript. URLs and playlists keep .ts; the demo origin maps .ts requests to .m2t files.
find "$OUT" -name '*.ts' -exec sh -c 'mv "$1" "${1%.ts}.m2t"' _ {} \;

echo "== done"
jq -c '.renditions[] | {id, codecs, resolution, bandwidth, averageBandwidth}' "$MANIFEST"
du -sh "$OUT"/live/* "$OUT"/vod/* "$OUT"/ll; du -sh "$OUT"
