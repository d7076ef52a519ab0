"""ClientSettings.verify: True, an existing CA bundle file or a directory of CA certificates."""

from __future__ import annotations

import pytest

from drs_analytics.settings import ClientSettings


def _settings(verify):
    return ClientSettings(endpoint="https://drs.example.invalid", project_id="p", verify=verify)


def test_a_file_a_directory_or_true(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert _settings(True).verify is True
    assert _settings(str(bundle)).verify == str(bundle)
    assert _settings(str(tmp_path)).verify == str(tmp_path)


@pytest.mark.parametrize("bad", ["missing.pem", 3, None])
def test_anything_else_is_refused(tmp_path, bad):
    value = str(tmp_path / bad) if isinstance(bad, str) else bad
    with pytest.raises(ValueError, match="CA bundle file or a directory of CA certificates"):
        _settings(value)


def test_false_is_refused():
    with pytest.raises(ValueError, match="cannot be turned off"):
        _settings(False)
