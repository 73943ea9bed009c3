"""Cheap decompression bombs for tests: gigabytes of zeros built in milliseconds, no binary fixtures.

After a full flush a deflate compressor starts afresh, so the compressed form of a block of zeros
can be computed once and repeated; a fresh compressor's flush then closes the stream.
"""

import struct
import zlib

_MIB = 1 << 20


def _deflate_parts(prefix: bytes, wbits: int):
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = z.compress(bytes(_MIB)) + z.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(6, zlib.DEFLATED, -15).flush()
    return head, block, tail


def raw_deflate_then_zeros(prefix: bytes, n_zero_mib: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``prefix`` + ``n_zero_mib`` MiB of zeros; returns (data, crc32, size)."""
    head, block, tail = _deflate_parts(prefix, -15)
    crc = zlib.crc32(prefix)
    zero = bytes(_MIB)
    for _ in range(n_zero_mib):
        crc = zlib.crc32(zero, crc)
    return head + block * n_zero_mib + tail, crc, len(prefix) + n_zero_mib * _MIB


def gzip_then_zeros(prefix: bytes, n_zero_mib: int) -> bytes:
    """A valid gzip file of ``prefix`` followed by ``n_zero_mib`` MiB of zeros."""
    data, crc, size = raw_deflate_then_zeros(prefix, n_zero_mib)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + data + struct.pack("<II", crc, size & 0xFFFFFFFF)


def zip_deflated(members: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A zip archive of already deflated members: name -> (raw deflate data, crc32, size)."""
    out, central = bytearray(), bytearray()
    for name, (data, crc, size) in members.items():
        n = name.encode()
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 33, crc, len(data), size, len(n), 0)
        out += n + data
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                33,
                crc,
                len(data),
                size,
                len(n),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + n
        )
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + eocd)


def deflated(data: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


_MEASURED = """
import os, resource, sys
pid = os.fork()  # a forked process starts its peak-RSS record afresh; an exec'd one inherits ours
if pid == 0:
    try:
        code, sys.argv = sys.argv[1], sys.argv[1:]  # the code sees its own arguments from argv[1]
        exec(compile(code, "<measured>", "exec"))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
    finally:
        os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(code: str, *args: str) -> tuple[list[str], int]:
    """Run ``code`` in a fresh Python process; returns (its stdout lines, its peak RSS in KiB).

    Linux carries the peak RSS of a parent (here the test run, hundreds of MB) across fork+exec,
    so the code runs in a process forked from the small child, whose record starts afresh.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = subprocess.run(
        [sys.executable, "-c", _MEASURED, code, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    *lines, peak = out.stdout.strip().splitlines()
    return lines, int(peak)
