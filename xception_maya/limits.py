"""Every size limit of the product, in one place.

Each limit protects the host process (inside Maya: the artist's session) from one small
file that asks for a huge allocation. Code that decodes, resizes or loads checks against
these names; nothing else defines a limit.
"""

from __future__ import annotations

# Xception's stride-32 stem and valid-padded convolutions accept nothing smaller.
MIN_INPUT_SIZE = 71
# An imported ONNX model (xception-maya import) may take smaller inputs (CIFAR's 32 px).
MIN_IMPORTED_INPUT_SIZE = 8
# A head or --size asking for more than this is refused before anything is allocated: the
# network's activations at 1024 px already take about 1.7 GiB (they grow with the square).
MAX_INPUT_SIZE = 1024

# 2**27 pixels admits a 16384 x 8192 lat-long map. Pillow's own limit (the host's setting)
# stays in force too; we never change it.
MAX_PIXELS = 2**27
# The decoded size of one image: pixels x channels x bytes per sample, estimated from the
# header before decoding. 2 GiB admits a 16384 x 8192 RGBA half-float EXR (1 GiB) or an
# 8-bit RGB image at MAX_PIXELS (384 MiB) with room for the float copy made from it.
MAX_DECODED_BYTES = 2 * 1024**3
# Images whose decoded size is over this are "large": at most LARGE_DECODES_AT_ONCE of them
# are decoded at the same time in one process, whatever the number of threads.
LARGE_DECODE_BYTES = 256 * 1024**2
LARGE_DECODES_AT_ONCE = 1

# A head file: the 1000-class ImageNet head is 8 MiB. A head over this is not a head.
MAX_HEAD_FILE_BYTES = 256 * 1024**2
# Elements of all arrays of one head together (float32): 64 M = 256 MiB.
MAX_HEAD_ELEMENTS = 64 * 1024**2
MAX_HEAD_CLASSES = 100_000
MAX_HEAD_LAYERS = 8
# An imported ONNX model file: protobuf's own limit (weights in external files are refused).
MAX_IMPORTED_MODEL_BYTES = 2 * 1024**3
# A manifest or a head's JSON metadata larger than this is refused unread.
MAX_JSON_BYTES = 16 * 1024**2
# Reference images a head keeps to tell "unknown" (xception_maya/unknown.py): 4096 x 2048
# float16 is 16 MiB on disk, 32 MiB as float32 in memory. A learned head with more examples
# keeps a seeded sample of them.
MAX_HEAD_REFERENCES = 4096
