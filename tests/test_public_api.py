import importlib
import pkgutil

import drs_analytics


def test_package_exports_are_curated_and_sorted():
    public = sorted(name for name in drs_analytics.__all__)
    assert drs_analytics.__all__ == public
    for name in public:
        assert hasattr(drs_analytics, name), name


def test_every_module_declares_all_and_it_resolves():
    for info in pkgutil.walk_packages(drs_analytics.__path__, "drs_analytics."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        assert names is not None, f"{info.name} has no __all__"
        for name in names:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_import_does_not_load_plotting_or_widgets():
    import subprocess
    import sys

    code = "import sys, drs_analytics; print(sorted(m for m in ('matplotlib', 'ipywidgets', 'tqdm', 'requests_cache') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_does_no_heavy_work():
    """Plotting and widgets load on first use, not with the package (issue: performance)."""
    import subprocess
    import sys

    code = ("import sys, drs_analytics; heavy = [m for m in ('matplotlib', 'ipywidgets', 'IPython', 'tqdm', "
            "'requests_cache', 'huaweicloudsdkcore') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
