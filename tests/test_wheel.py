"""The package works when installed from a wheel, outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_serves_pages(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("policyflow-*.whl"))
    env_dir = tmp_path / "venv"
    # The fresh venv sees the test environment's dependencies but not the repository checkout.
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, str(wheel)],
                   check=True, capture_output=True, timeout=300)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "POLICYFLOW_INSTANCE_PATH": str(outside / "instance"), "PYTHONPATH": ""}
    env.pop("POLICYFLOW_DATABASE_URL", None)
    env.pop("POLICYFLOW_SECRET_KEY", None)
    script = (
        "import policyflow, sys\n"
        "assert 'site-packages' in policyflow.__file__ or 'purelib' in policyflow.__file__, policyflow.__file__\n"
        "from policyflow.cli import main\n"
        "from policyflow.resources import templates_dir, workflows_dir\n"
        "assert (templates_dir() / 'base.html').is_file(), templates_dir()\n"
        "assert workflows_dir().is_dir(), workflows_dir()\n"
        "from policyflow.web import create_app\n"
        "import subprocess\n"
    )
    subprocess.run([str(python), "-c", script], check=True, cwd=outside, env=env, timeout=60)
    cli = [str(python), "-m", "policyflow.cli"]
    help_text = subprocess.run([*cli, "--help"], check=True, cwd=outside, env=env, capture_output=True, text=True)
    assert "import" in help_text.stdout and "serve" in help_text.stdout
    demo = subprocess.run([*cli, "demo"], cwd=outside, env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    render = (
        "from policyflow.web import create_app\n"
        "client = create_app().test_client()\n"
        "page = client.get('/public/policies/JD')\n"
        "assert page.status_code == 200, page.status_code\n"
        "assert b'Student Discipline' in page.data\n"
        "assert client.get('/static/css/app.css').status_code == 200\n"
        "print('rendered', len(page.data))\n"
    )
    result = subprocess.run([str(python), "-c", render], check=True, cwd=outside, env=env, capture_output=True,
                            text=True, timeout=60)
    assert "rendered" in result.stdout
