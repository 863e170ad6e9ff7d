"""The limits every image reader applies (light: importable without Pillow or NumPy).

``MAX_PIXELS``: the one pixel limit, checked from the header before any pixel is decoded, on every
path (the index, the experiment's data reader, fine-tuning folders, thumbnails, the server's
uploads): 89,478,485 pixels, Pillow's own ``Image.MAX_IMAGE_PIXELS`` (a 9459 x 9459 image; 256
MiB as 8-bit RGB). It is larger than the photos phones save, also in their full-resolution
modes (50 MP, and 64 MP sensors' 9248 x 6936 = 64.1 MP, which a 64,000,000 limit would refuse),
while a PNG of a few hundred bytes that declares 30000 x 30000 pixels (2.7 GB once
decoded) is refused from its header. Pillow itself refuses anything above twice its limit,
whatever a caller's ``max_pixels`` says.

``MAX_FILE_BYTES``: the byte-size cap, checked before a file is read: 512 MiB, room for an
uncompressed 16-bit RGB TIFF near the pixel limit; a link to ``/dev/zero`` or a huge file never
fills the memory.
"""

MAX_PIXELS = 89_478_485
MAX_FILE_BYTES = 512 * 1024 * 1024
