#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the captured frames in tests/fixtures/vectors.

    fuzz/seed.py            # writes fuzz/corpus/<target>/ (git-ignored)

Bolt targets get whole frames (and a few frames back to back); the Hessian and serializer
targets get the content section of each frame, behind the selector bytes each target reads
first. Seeds are (re)written beside whatever the fuzzer has added to the corpora; nothing here
is committed.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
VECTORS = ROOT.parent / "tests" / "fixtures" / "vectors"
CORPUS = ROOT / "corpus"

# Codec byte -> serializer index in the targets' SERIALIZERS list
# ["hessian2", "hessian4", "msgpack", "json", "protobuf"].
SERIALIZER_OF_CODEC = {1: [0, 1], 11: [4], 13: [2]}


def content_of(frame: bytes):
    """(codec, content) of a bolt v1/v2 request or response frame, or None."""
    if len(frame) < 20:
        return None
    proto = frame[0]
    at = 1 if proto == 1 else 2
    ty = frame[at]
    request = ty in (1, 2)
    # type, cmdcode(2), ver2, id(4), codec [, switch] then timeout(4) or status(2)
    pos = at + 1 + 2 + 1 + 4
    codec = frame[pos]
    pos += 1
    switch = 0
    if proto == 2:
        switch = frame[pos]
        pos += 1
    pos += 4 if request else 2
    class_len = int.from_bytes(frame[pos:pos + 2], "big")
    header_len = int.from_bytes(frame[pos + 2:pos + 4], "big")
    content_len = int.from_bytes(frame[pos + 4:pos + 8], "big")
    start = pos + 8 + class_len + header_len
    content = frame[start:start + content_len]
    return codec, content


def write(target: str, name: str, data: bytes) -> None:
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main() -> None:
    frames = []
    for path in sorted(VECTORS.rglob("*.hex")):
        frame = bytes.fromhex(path.read_text().strip())
        name = f"{path.parent.name}-{path.stem}"
        frames.append(frame)
        write("bolt_frame", name, frame)
        write("bolt_frame_chunked", name, bytes([7]) + frame)
        parsed = content_of(frame)
        if parsed is None:
            continue
        codec, content = parsed
        if not content:
            continue
        for dialect in (0, 1):
            write("hessian_value", f"{name}-{dialect}", bytes([dialect]) + content)
            write("hessian_typed", f"{name}-{dialect}", bytes([dialect, 8]) + content)
        for pick in SERIALIZER_OF_CODEC.get(codec, []):
            write("request_reader", f"{name}-{pick}", bytes([pick]) + content)
            write("response_reader", f"{name}-{pick}", bytes([pick, 0]) + content)
    # Frames back to back, as a connection carries them.
    for i in range(0, len(frames) - 2, 3):
        joined = b"".join(frames[i:i + 3])
        write("bolt_frame", f"joined-{i}", joined)
        write("bolt_frame_chunked", f"joined-{i}", bytes([3]) + joined)
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"seed corpora in {CORPUS}: {total // 1024} KiB")


if __name__ == "__main__":
    main()
