"""Jet images: the standard preprocessing puts a hand-built two-prong jet where the convention says."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from neyman.exceptions import ConfigError
from neyman.representations import ImageSpec, jet_images
from neyman.table import Table


def _two_prong(angle: float, *, charges: tuple[int, int] = (0, 0)) -> Table:
    """Prong A (pT 300) and prong B (pT 100), 0.5 apart along ``angle`` in the (phi, eta) plane."""
    centre_eta, centre_phi = 0.3, 1.2
    pts = np.array([300.0, 100.0])
    # offsets so that the pT-weighted centroid sits at the centre: A at -0.125, B at +0.375 along the axis
    along = np.array([-0.125, 0.375])
    eta = centre_eta + along * np.sin(angle)
    phi = centre_phi + along * np.cos(angle)
    px, py, pz = pts * np.cos(phi), pts * np.sin(phi), pts * np.sinh(eta)
    return Table(
        {
            "constituent_E": ak.Array([list(pts * np.cosh(eta))]),
            "constituent_px": ak.Array([list(px)]),
            "constituent_py": ak.Array([list(py)]),
            "constituent_pz": ak.Array([list(pz)]),
            "constituent_charge": ak.Array([[float(c) for c in charges]]),
        }
    )


def _pixel(eta: float, phi: float, size: int = 33, extent: float = 0.8) -> tuple[int, int]:
    return int(np.floor((eta + extent) / (2 * extent) * size)), int(np.floor((phi + extent) / (2 * extent) * size))


@pytest.mark.parametrize("angle", [0.3, 1.0, 2.5, -2.0])
def test_centroid_centred_rotated_flipped_two_prong_jet(angle: float) -> None:
    image = jet_images(_two_prong(angle))[0, 0]
    assert image.shape == (33, 33)
    assert image.sum() == pytest.approx(1.0, abs=1e-6)
    # the harder prong up (eta' > 0) on the vertical axis, 0.125 from the centroid; the softer 0.375 below
    a, b = _pixel(0.125, 0.0), _pixel(-0.375, 0.0)
    assert image[a] == pytest.approx(0.75, abs=1e-6)
    assert image[b] == pytest.approx(0.25, abs=1e-6)


def test_leading_centring_puts_the_hardest_constituent_in_the_middle() -> None:
    image = jet_images(_two_prong(0.7), ImageSpec(centre="leading"))[0, 0]
    assert image[16, 16] == pytest.approx(0.75, abs=1e-6)
    assert image[_pixel(0.5, 0.0)] == pytest.approx(0.25, abs=1e-6)  # the other prong straight up


def test_without_preprocessing_the_prongs_stay_where_they_are() -> None:
    spec = ImageSpec(centre="none", rotate=False, flip=False, normalise=False)
    image = jet_images(_two_prong(0.0), spec)[0, 0]
    assert image.sum() == pytest.approx(400.0, rel=1e-6)  # pT intensity, unnormalised
    assert np.count_nonzero(image) == 2


def test_charged_and_neutral_channels() -> None:
    images = jet_images(_two_prong(0.4, charges=(1, 0)), ImageSpec(channels="charged_neutral"))
    assert images.shape == (1, 2, 33, 33)
    assert images[0, 0].sum() == pytest.approx(0.75, abs=1e-6)  # the charged (harder) prong
    assert images[0, 1].sum() == pytest.approx(0.25, abs=1e-6)


def test_bad_image_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="size"):
        ImageSpec(size=1)
    with pytest.raises(ConfigError, match="centre"):
        ImageSpec(centre="middle")  # type: ignore[arg-type]
