r"""ICA: blind source separation of the spatial mean RGB trace into independent components.

Poh, McDuff and Picard, "Non-contact, automated cardiac pulse measurements using video imaging and blind source
separation", Optics Express 18(10):10762-10774, 2010; component selection as in Poh, McDuff and Picard,
"Advancements in noncontact, multiparameter physiological measurements using a webcam", IEEE Transactions on
Biomedical Engineering 58(1):7-11, 2011. Discussed as a blind source separation method in Wang et al.,
"Algorithmic principles of remote PPG", IEEE TBME 64(7), 2017.

The three colour traces are modelled as linear mixtures of three independent sources, one of them the pulse.
Independent component analysis estimates the unmixing matrix from the data alone (no skin-reflection prior),
and the pulse is taken to be the component with the most periodic power in the heart-rate band.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rppgblocks._checks import check_band, check_finite_positive, is_compiling
from rppgblocks.classical._common import GREEN_CHANNEL, check_frames, check_rgb
from rppgblocks.functional.heart_rate import DEFAULT_HR_BAND, next_power_of_two

__all__ = ["DEFAULT_ICA_ITERATIONS", "ICA", "ica"]

#: Default number of FastICA iterations. A fixed count (no tolerance test) keeps the computation one static graph.
#: Clean mixtures of non-Gaussian sources converge in about 20; on noisy traces, where the non-pulse components are
#: nearly Gaussian and so not identifiable, the unmixing keeps drifting slowly, and the output with it.
DEFAULT_ICA_ITERATIONS = 64


# Zero padding of the component spectra, as rppgblocks.functional.fft_heart_rate: at least 1024 bins.
_MIN_NFFT = 1024


def _inverse_sqrt_psd(m: Tensor) -> Tensor:
    """:math:`M^{-1/2}` of symmetric positive semi-definite ``(..., 3, 3)`` matrices (eigenvalues floored)."""
    eigenvalues, eigenvectors = torch.linalg.eigh(m)
    floor = torch.finfo(m.dtype).eps * eigenvalues[..., -1:].clamp_min(0) + torch.finfo(m.dtype).tiny
    scale = eigenvalues.clamp_min(floor).rsqrt()
    root: Tensor = (eigenvectors * scale[..., None, :]) @ eigenvectors.transpose(-1, -2)
    return root


def _fast_ica(white: Tensor, n_iter: int) -> Tensor:
    """Symmetric FastICA with the log-cosh contrast on whitened ``(B, 3, T)`` data; returns the sources."""
    n_frames = white.shape[-1]
    w = torch.eye(3, dtype=white.dtype, device=white.device).expand(white.shape[0], 3, 3)
    for _ in range(n_iter):
        g = torch.tanh(w @ white)  # (B, 3, T)
        g_prime = 1 - g.square()
        # Hyvarinen 1999, the fixed-point step w+ = E{z g(w^T z)} - E{g'(w^T z)} w, for all rows at once ...
        w = g @ white.transpose(-1, -2) / n_frames - g_prime.mean(dim=-1, keepdim=True) * w
        # ... then symmetric decorrelation W = (W W^T)^(-1/2) W
        w = _inverse_sqrt_psd(w @ w.transpose(-1, -2)) @ w
    return w @ white


def ica(
    rgb: Tensor,
    fs: float,
    *,
    band: tuple[float, float] = DEFAULT_HR_BAND,
    n_iter: int = DEFAULT_ICA_ITERATIONS,
) -> Tensor:
    r"""Recover the pulse signal from RGB traces with ICA (independent component analysis).

    Poh et al., Optics Express 18(10), 2010 (normalisation, ICA of the three traces); component
    selection of Poh et al., IEEE TBME 58(1), 2011. For each trace:

    1. normalisation: :math:`x_i'(t) = (x_i(t) - \mu_i) / \sigma_i` for each channel :math:`i`;
    2. whitening: :math:`z = \Sigma^{-1/2} x'`, with :math:`\Sigma` the channels' correlation matrix (symmetric
       whitening, so the whitened channels stay closest to the colour channels);
    3. ICA: :math:`s = W z`, with :math:`W` orthogonal, estimated by symmetric FastICA with the log-cosh
       contrast, :math:`g = \tanh` (Hyvärinen, "Fast and robust fixed-point algorithms for independent
       component analysis", IEEE Trans. Neural Networks 10(3), 1999), started from :math:`W = I` and run for
       exactly ``n_iter`` iterations;
    4. selection: the component whose periodogram (Hann window, zero-padded to at least 1024 bins) has the
       highest peak inside ``band``;
    5. sign: chosen so that the component's in-band covariance with the normalised green channel (the real part
       of their cross-spectrum summed over ``band``) is positive.

    **Choices of this implementation.** Poh et al. 2010 used JADE; FastICA estimates the same model (three
    independent, non-Gaussian sources mixed linearly) with another contrast, is a few lines of batched matrix
    algebra, and with a deterministic start and a fixed number of iterations gives the same answer on every
    run and one static graph (no convergence test). The 2010 paper always took the second component; the
    highest in-band spectral peak is the 2011 paper's rule and does not depend on the components' order, which
    ICA leaves arbitrary. ICA leaves the sign arbitrary too; step 5 makes a colour change along the blood
    volume pulse direction :math:`+u_p \propto (0.33, 0.77, 0.53)` give a positive output, the sign convention
    of :mod:`rppgblocks.classical`; it looks only inside the band, so that a slow intensity change, which
    dominates the green channel, does not decide it. The whole trace is one window (the papers slide 30 s
    windows); no detrending or band-pass is applied.

    Properties: not meant to be differentiated (the selection is an argmax; eigen-decompositions with repeated
    eigenvalues have no gradient); ``torch.compile(fullgraph=True)`` and ``torch.export`` work (the
    ``n_iter`` iterations are unrolled, so compiling takes longer); CPU and CUDA.

    Args:
        rgb: RGB traces, ``(B, 3, T)`` (layout :data:`rppgblocks.layout.TRACE`), channels in R, G, B order.
            Any real dtype; computed in float32 (float64 for float64 input).
        fs: The frame rate in Hz.
        band: The heart-rate band ``(low_hz, high_hz)`` in Hz used to select the component (default
            :data:`~rppgblocks.functional.DEFAULT_HR_BAND` = (0.6, 3.3) Hz).
        n_iter: The number of FastICA iterations (default :data:`DEFAULT_ICA_ITERATIONS` = 64).

    Returns:
        The pulse signals, ``(B, T)``, float32 (float64 for float64 input), zero mean and unit variance.

    Raises:
        TypeError: If ``rgb`` is not a real tensor.
        ShapeError: If ``rgb`` is not ``(B, 3, T)``.
        ValueError: If ``fs``, ``band`` or ``n_iter`` is invalid, ``rgb`` has fewer than 3 frames, or ``band``
            holds no frequency bin of the periodogram.

    Shape:
        - rgb: :math:`(B, 3, T)`
        - output: :math:`(B, T)`

    Examples:
        >>> from rppgblocks.functional import fft_heart_rate
        >>> fs, t = 30.0, torch.arange(300) / 30.0
        >>> pulse = torch.sin(2 * torch.pi * 1.2 * t)  # 72 bpm
        >>> light = 1 + 0.05 * torch.sin(2 * torch.pi * 0.2 * t)  # slow intensity change
        >>> skin = torch.tensor([180.0, 120.0, 100.0])[:, None]
        >>> rgb = light * skin * (1 + 0.005 * torch.tensor([0.33, 0.77, 0.53])[:, None] * pulse)
        >>> rgb = rgb + 0.05 * torch.randn(3, 300, generator=torch.Generator().manual_seed(0))
        >>> bvp = ica(rgb[None], fs)
        >>> bvp.shape
        torch.Size([1, 300])
        >>> round(float(fft_heart_rate(bvp, fs)))
        72
    """
    dtype = check_rgb(rgb)
    check_finite_positive(fs, "fs")
    band = check_band(band)
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
        raise ValueError(f"n_iter: expected an integer >= 1, got {n_iter!r}")
    check_frames(rgb, 3, "ICA", "3 components of a 3-channel trace")
    batch, _, n_frames = rgb.shape
    eps = torch.finfo(dtype).eps

    # 1. normalisation (a constant channel gives zeros)
    x = rgb.to(dtype)
    centred = x - x.mean(dim=-1, keepdim=True)
    std = centred.square().mean(dim=-1, keepdim=True).sqrt()
    normalised = centred / (std + eps)
    # 2. symmetric whitening
    correlation = normalised @ normalised.transpose(-1, -2) / n_frames
    white = _inverse_sqrt_psd(correlation) @ normalised
    # 3. FastICA
    sources = _fast_ica(white, n_iter)  # (B, 3, T)
    # 4. the component with the highest periodogram peak in the band
    n_fft = next_power_of_two(max(n_frames, _MIN_NFFT))
    taper = torch.hann_window(n_frames, periodic=True, dtype=dtype, device=rgb.device)
    spectra = torch.fft.rfft(sources * taper, n=n_fft, dim=-1)  # (B, 3, F)
    freqs = torch.arange(spectra.shape[-1], dtype=dtype, device=rgb.device) * (fs / n_fft)
    in_band = (freqs >= band[0]) & (freqs <= band[1])
    if not is_compiling() and not bool(in_band.any()):
        raise ValueError(f"band: {band} Hz holds no frequency bin at fs={fs} Hz; widen the band")
    power = (spectra.real.square() + spectra.imag.square()).masked_fill(~in_band, -1.0)
    choice = power.amax(dim=-1).argmax(dim=-1)  # (B,)
    index = choice[:, None, None]
    chosen = sources.gather(1, index.expand(batch, 1, n_frames)).squeeze(1)  # (B, T)
    chosen_spectrum = spectra.gather(1, index.expand(batch, 1, spectra.shape[-1])).squeeze(1)  # (B, F)
    # 5. sign: positive in-band covariance (cross-spectrum) with the normalised green channel
    green_spectrum = torch.fft.rfft(normalised[:, GREEN_CHANNEL] * taper, n=n_fft, dim=-1)
    cross = chosen_spectrum.real * green_spectrum.real + chosen_spectrum.imag * green_spectrum.imag
    covariance = cross.masked_fill(~in_band, 0.0).sum(dim=-1, keepdim=True)
    return torch.where(covariance < 0, -chosen, chosen)


class ICA(nn.Module):
    """ICA (independent component analysis, Poh et al. 2010) as a module: RGB traces in, pulse signal out.

    A thin wrapper that validates its configuration once and calls :func:`ica`; it has no parameters.

    Args:
        fs: The frame rate in Hz.
        band: The heart-rate band ``(low_hz, high_hz)`` in Hz used to select the component (default
            :data:`~rppgblocks.functional.DEFAULT_HR_BAND`).
        n_iter: The number of FastICA iterations (default :data:`DEFAULT_ICA_ITERATIONS`).

    Raises:
        ValueError: If ``fs``, ``band`` or ``n_iter`` is invalid.

    Shape:
        - Input: :math:`(B, 3, T)`, RGB traces
        - Output: :math:`(B, T)`, the pulse signals

    Examples:
        >>> module = ICA(fs=30.0)
        >>> module
        ICA(fs=30.0, band=(0.6, 3.3), n_iter=64)
        >>> module(torch.rand(2, 3, 64) + 1).shape
        torch.Size([2, 64])
    """

    def __init__(
        self, fs: float, *, band: tuple[float, float] = DEFAULT_HR_BAND, n_iter: int = DEFAULT_ICA_ITERATIONS
    ) -> None:
        super().__init__()
        check_finite_positive(fs, "fs")
        self.band = check_band(band)
        if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
            raise ValueError(f"n_iter: expected an integer >= 1, got {n_iter!r}")
        self.fs = float(fs)
        self.n_iter = n_iter

    def forward(self, rgb: Tensor) -> Tensor:
        """Apply :func:`ica` to ``rgb`` (``(B, 3, T)``), returning ``(B, T)``."""
        return ica(rgb, self.fs, band=self.band, n_iter=self.n_iter)

    def extra_repr(self) -> str:
        """The module's configuration, shown in its ``repr``."""
        return f"fs={self.fs}, band={self.band}, n_iter={self.n_iter}"
