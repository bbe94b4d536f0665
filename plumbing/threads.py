"""CPU-bound work off the eventlet hub.

Every worker of a service shares one OS thread; a few hundred milliseconds of
decoding there (a 40-megapixel PNG) would stall every other request meanwhile.
`off_hub` runs a function in eventlet's pool of real threads and waits for it
cooperatively; C code that releases the GIL (Pillow's decoders, zlib) then runs
beside the hub.
"""
from eventlet import tpool


def off_hub(function, *args, **kwargs):
    """`function(*args, **kwargs)` in a real thread; its result, or its exception raised here."""
    return tpool.execute(function, *args, **kwargs)
