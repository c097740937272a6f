"""The ICS lab guest's disk header (Python stdlib; used by read-disk, guest-disk and the CTS).

Sector 0 of the guest's raw disk, written by the guest's /init once a second with
dd conv=notrunc,fsync: 512 bytes of ASCII, space-padded, ending in a newline:

    ICSGUEST v=1 boots=<n> counter=<c> uptime_ms=<u> state=<running|stopped>

A fresh disk has a zeroed header (no magic): the guest then prints "ics-guest found none"
and starts at boots=1.
"""
import os

MAGIC = "ICSGUEST"
HEADER = 512
DEFAULT_SIZE = 4 << 20


def parse_header(raw):
    """dict with magic/boots/counter/uptime_ms/state; magic None for a zeroed header.
    Raises ValueError for anything else (not a lab guest disk, or a torn header)."""
    raw = raw[:HEADER]
    if raw.strip(b"\0") == b"":
        return {"magic": None, "boots": 0, "counter": 0, "uptime_ms": 0, "state": None}
    words = raw.decode("ascii", "replace").split()
    if not words or words[0] != MAGIC:
        raise ValueError("no ICSGUEST magic in the first 512 bytes")
    kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    try:
        return {"magic": MAGIC, "boots": int(kv["boots"]), "counter": int(kv["counter"]),
                "uptime_ms": int(kv["uptime_ms"]), "state": kv.get("state")}
    except (KeyError, ValueError) as e:
        raise ValueError(f"bad ICSGUEST header: {e}") from None


def read_header(path):
    """Read the header from an image file or block device, read-only (safe while the VM
    runs: QEMU writes through to the file, the host page cache is coherent)."""
    with open(path, "rb") as f:
        return parse_header(f.read(HEADER))


def create_disk(path, size=DEFAULT_SIZE, force=False):
    """A fresh raw image of SIZE bytes (sparse) with a zeroed header."""
    if size < 1 << 20 or size % 512:
        raise ValueError("size must be >= 1 MiB and a multiple of 512")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.ftruncate(fd, size)
        os.pwrite(fd, b"\0" * HEADER, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
