"""The package version. ``scripts/build_wheel.sh`` sets ``LAKEHOUSE_BUILD_COMMIT`` so that the wheel
promoted from dev to test to prod names the commit it was built from (``0.1.0+g1a2b3c4d5e6f``)."""

import os

BASE_VERSION = "0.1.0"
_commit = os.environ.get("LAKEHOUSE_BUILD_COMMIT", "")
__version__ = f"{BASE_VERSION}+g{_commit}" if _commit else BASE_VERSION
