"""Neural style transfer (Gatys, Ecker & Bethge 2016): the book's last chapter.

``vgg`` (feature taps
of VGG19, ImageNet or random weights), ``losses`` (Gram matrix, content, style
and total-variation losses), ``color`` (luminance-only transfer), ``images``
(loading, the book's paintings and photos) and ``transfer`` (the optimisation).
"""

from gancourse.config.style import CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS, StyleConfig
from gancourse.style.color import luminance, rgb_to_yiq, yiq_to_rgb
from gancourse.style.images import ImageSet, book_images, load_style_image
from gancourse.style.losses import content_loss, gram_matrix, style_loss, total_variation
from gancourse.style.transfer import (
    RANDOM_WEIGHTS_SETTINGS,
    StyleDiverged,
    StyleRun,
    reconstruct_content,
    reconstruct_style,
    settings_for_weights,
    stylize,
)
from gancourse.style.vgg import CorruptWeights, VGGFeatures, vgg19_features, weights_label

__all__ = [
    "CONTENT_LAYERS",
    "CorruptWeights",
    "RANDOM_WEIGHTS_SETTINGS",
    "STYLE_LAYERS",
    "VGG19_LAYERS",
    "ImageSet",
    "StyleConfig",
    "StyleDiverged",
    "StyleRun",
    "VGGFeatures",
    "book_images",
    "content_loss",
    "gram_matrix",
    "load_style_image",
    "luminance",
    "reconstruct_content",
    "reconstruct_style",
    "settings_for_weights",
    "rgb_to_yiq",
    "stylize",
    "style_loss",
    "total_variation",
    "vgg19_features",
    "weights_label",
    "yiq_to_rgb",
]
