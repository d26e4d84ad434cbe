#!/bin/sh
# Remakes the MP3 fixtures the audio tests decode. Needs Debian's espeak-ng,
# lame and python3: espeak-ng speaks to a WAV, lame encodes it. The tests never run
# this: the MP3s are committed (CI has no MP3 encoder).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Speech, as a member's recording would be: MPEG-2 layer III, 22.05 kHz mono.
espeak-ng -v en-gb -s 140 -a 40 -w "$tmp/hello.wav" "Hello. Thank you for calling."
lame --quiet -m m --resample 22.05 -b 32 "$tmp/hello.wav" hello.mp3
# Silence: one second of zero samples at 44.1 kHz (MPEG-1).
python3 -c 'import sys,struct,wave
w=wave.open(sys.argv[1],"wb");w.setnchannels(1);w.setsampwidth(2);w.setframerate(44100);w.writeframes(b"\0\0"*44100);w.close()' "$tmp/silence.wav"
lame --quiet -m m -b 32 "$tmp/silence.wav" silence.mp3
