"""The settings classes are importable from the package; no stray names in dir()."""

import drs_analytics


def test_pacing_settings_is_exported_like_retry_settings():
    from drs_analytics import ClientSettings, PacingSettings, RetrySettings
    from drs_analytics.settings import ClientSettings as C, PacingSettings as P, RetrySettings as R

    assert (PacingSettings, RetrySettings, ClientSettings) == (P, R, C)
    assert {"PacingSettings", "RetrySettings", "ClientSettings"} <= set(drs_analytics.__all__)


def test_no_future_annotations_name_in_the_package_namespace():
    assert "annotations" not in dir(drs_analytics)
