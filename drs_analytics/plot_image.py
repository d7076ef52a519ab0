"""An image of state codes that never lets a row vanish when drawn on fewer pixel rows than it has.

Matplotlib resamples an image to the pixels it covers; with nearest-neighbour sampling a
10,000-row image drawn 600 pixels high shows one row in 17 and silently drops the rest.
:class:`BinnedImage` keeps every row in its data (``get_array()`` has one row per job) and,
each time it is drawn, bins consecutive rows into the pixel rows it really gets at that
renderer's dpi, with the max rule of :func:`~drs_analytics.plot_base.bin_rows`.

This module imports matplotlib; the plot functions import it only when they draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.image import AxesImage

from .plot_base import bin_rows

__all__ = ["BinnedImage", "add_binned_image"]


class BinnedImage(AxesImage):
    """An :class:`~matplotlib.image.AxesImage` whose rows are max-binned to the pixel rows drawn.

    Vector output that embeds the image unsampled (``interpolation="none"`` in PDF/SVG) keeps
    every row as is.
    """

    def make_image(self, renderer: Any, magnification: float = 1.0, unsampled: bool = False) -> Any:
        if unsampled or self.get_array() is None:
            return super().make_image(renderer, magnification, unsampled)
        pixel_rows = int(abs(self.get_window_extent(renderer).height) * magnification)
        return self._twin(max(pixel_rows, 1)).make_image(renderer, magnification, unsampled)

    def _twin(self, rows: int) -> AxesImage:
        """A throwaway RGBA twin over the same extent: this image's rows binned to at most ``rows``,
        colour-mapped before resampling (cheap: the binned array is small; the same pixels as
        colour-mapping after, for nearest-neighbour sampling)."""
        codes, _ = bin_rows(np.asarray(self.get_array()), rows)
        twin = AxesImage(self.axes, interpolation=self.get_interpolation(), origin=self.origin,
                         extent=self.get_extent())
        twin.update_from(self)
        twin.set_data(self.to_rgba(codes, bytes=True))
        return twin


def add_binned_image(ax: Any, codes: np.ndarray, *, colors: tuple[str, ...], extent: tuple[float, float, float, float],
                     **kwargs: Any) -> BinnedImage:
    """Draw integer ``codes`` (0 .. len(colors) - 1) on ``ax`` as a :class:`BinnedImage`, like ``imshow``.

    ``aspect`` (default "auto") goes to the Axes; other ``kwargs`` are AxesImage properties
    (``interpolation`` defaults to "nearest").
    """
    ax.set_aspect(kwargs.pop("aspect", "auto"))
    kwargs.setdefault("interpolation", "nearest")
    image = BinnedImage(ax, cmap=ListedColormap(colors), norm=Normalize(-0.5, len(colors) - 0.5), origin="upper",
                        extent=extent, **kwargs)
    image.set_data(codes)
    image.set_clip_path(ax.patch)
    image.set_extent(image.get_extent())
    ax.add_image(image)
    return image
