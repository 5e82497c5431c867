r"""Classical (training-free) rPPG methods: from spatial mean RGB traces to a pulse signal.

Each method is a function on RGB traces ``(B, 3, T)`` returning pulse signals ``(B, T)``, plus a thin module:

======================== ============================================================================
``green`` / ``GREEN``    the green channel (Verkruysse et al., Optics Express 2008)
``ica`` / ``ICA``        independent component analysis (Poh et al., Optics Express 2010)
``chrom`` / ``CHROM``    chrominance (de Haan and Jeanne, IEEE TBME 2013)
``pbv`` / ``PBV``        blood volume pulse signature (de Haan and van Leest, Physiol. Meas. 2014)
``pos`` / ``POS``        plane orthogonal to skin (Wang et al., IEEE TBME 2017)
``lgi`` / ``LGI``        local group invariance (Pilz et al., CVPRW 2018)
``omit`` / ``OMIT``      orthogonal matrix image transformation (Álvarez Casado and Bordallo López,
                         IEEE JBHI 2023)
======================== ============================================================================

Sign convention: every output is positive for a colour change along the blood volume pulse direction
:math:`+u_p \propto (0.33, 0.77, 0.53)` relative to the skin tone (Wang et al. 2017, Sec. II).
"""

from rppgblocks.classical.chrom import CHROM, DEFAULT_CHROM_WINDOW_S, chrom
from rppgblocks.classical.green import GREEN, green
from rppgblocks.classical.ica import DEFAULT_ICA_ITERATIONS, ICA, ica
from rppgblocks.classical.lgi import LGI, lgi
from rppgblocks.classical.omit import OMIT, omit
from rppgblocks.classical.pbv import DEFAULT_PBV_SIGNATURE, DEFAULT_PBV_WINDOW_S, PBV, pbv
from rppgblocks.classical.pos import DEFAULT_POS_WINDOW_S, POS, pos

__all__ = [
    "CHROM",
    "DEFAULT_CHROM_WINDOW_S",
    "DEFAULT_ICA_ITERATIONS",
    "DEFAULT_PBV_SIGNATURE",
    "DEFAULT_PBV_WINDOW_S",
    "DEFAULT_POS_WINDOW_S",
    "GREEN",
    "ICA",
    "LGI",
    "OMIT",
    "PBV",
    "POS",
    "chrom",
    "green",
    "ica",
    "lgi",
    "omit",
    "pbv",
    "pos",
]
