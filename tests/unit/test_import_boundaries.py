"""The domain library must stay free of ZenML and MLflow so it can be tested and served alone."""

import subprocess
import sys


def test_importing_the_library_pulls_in_neither_zenml_nor_mlflow() -> None:
    code = (
        "import sys, importlib, pkgutil, movie_roulette\n"
        "for m in pkgutil.walk_packages(movie_roulette.__path__, 'movie_roulette.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('zenml', 'mlflow'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
