"""The default phone region is one setting, and the documented default is the one the code uses."""
import re
from pathlib import Path

import phonenumbers

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _documented_region() -> str:
    match = re.search(r"^WECARE_DEFAULT_REGION=(\w+)", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert match, ".env.example documents WECARE_DEFAULT_REGION"
    return match.group(1)


def test_env_example_and_settings_agree_on_the_default_region():
    default = Settings.model_fields["default_region"].default
    assert default == _documented_region()
    assert default in phonenumbers.SUPPORTED_REGIONS
