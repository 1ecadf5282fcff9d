"""``lakehouse validate``: load each environment's config and print every problem it has."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from lakehouse.config import load_config


def validate(envs: Sequence[str], config_dir: Path) -> int:
    """Exit code 1 when any environment has a problem; each is printed with its file and key."""
    failed = False
    for env in envs:
        config = load_config(env, config_dir)
        if config.issues:
            failed = True
            print(f"{env}: {len(config.issues)} problem(s)", file=sys.stderr)
            for issue in config.issues:
                print(f"  - {issue}", file=sys.stderr)
            continue
        systems = ", ".join(config.systems)
        gold = len(config.pipelines.gold.tables) if config.pipelines else 0
        print(f"{env}: OK ({len(config.systems)} systems: {systems}; {gold} Gold tables)")
    return 1 if failed else 0
