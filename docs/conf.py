"""Sphinx configuration for the rppgblocks documentation (build: sphinx-build -W -b html docs docs/_build/html)."""

from __future__ import annotations

import rppgblocks

project = "rppgblocks"
author = "the rppgblocks developers"
copyright = "2026, the rppgblocks developers"
release = rppgblocks.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
]

autodoc_default_options = {"members": True, "show-inheritance": False, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Shape", "params_style"), ("Keys", "params_style")]
napoleon_use_rtype = False
napoleon_use_ivar = True

templates_path: list[str] = []
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"rppgblocks {release}"
html_static_path: list[str] = []
