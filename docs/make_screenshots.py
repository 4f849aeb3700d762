"""Screenshots of the web interface for docs/web.md, made with the system's headless Chromium.

    python docs/make_screenshots.py [--rows 20000] [--out docs/screenshots]

Starts a throw-away service (temporary data directory, SQLite, the Redis at
HERA_TEST_REDIS_URL or 127.0.0.1:6379 with a queue of its own, one real worker), loads
the deterministic demo catalogue, signs in as a demo user and walks through the pages:
select around the Crab, save to Hera, run scw_coverage, follow the job, preview files.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from werkzeug.serving import make_server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_web_browser import chromium  # noqa: E402  (the browser of the tests, same flags)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="demo science windows to load")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from accounts import users
    from tap_catalog import demo
    from vo_service import create_app
    from vo_service.app import init_database

    with tempfile.TemporaryDirectory() as tmp:
        config = {"HERA_DATA_DIR": str(Path(tmp) / "data"),
                  "HERA_REDIS_URL": os.environ.get("HERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
                  "HERA_QUEUE": f"hera-screenshots-{uuid.uuid4().hex[:8]}"}
        app = create_app(config)
        init_database(app)
        hera = app.extensions["hera"]
        demo.load(hera.engine, hera.tableset, demo.generate(args.rows, seed=7))
        token = users.add_user(hera.engine, "alice", ["integral"])

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        app.config["HERA_BASE_URL"] = url
        env = {**os.environ, **config, "PYTHONPATH": str(REPO)}
        worker = subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"], env=env, cwd=REPO,
                                  start_new_session=True, stdout=subprocess.DEVNULL)
        driver = chromium(Path(tmp) / "profile")
        try:
            walk(driver, url, token, args.out)
        finally:
            driver.quit()
            worker.terminate()
            worker.wait(timeout=20)
            server.shutdown()
            hera.engine.dispose()


def shoot(driver, out: Path, name: str, height: int | None = None):
    """A screenshot of the whole page (the window is made as tall as the page)."""
    page = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, height or min(max(page, 700), 2200))
    time.sleep(0.3)
    driver.save_screenshot(str(out / f"{name}.png"))
    driver.set_window_size(1400, 1000)
    print("wrote", out / f"{name}.png")


def walk(driver, url: str, token: str, out: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def until(condition, timeout=120):
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)

    def by_id(element_id):
        return driver.find_element(By.ID, element_id)

    driver.set_window_size(1400, 1000)
    driver.get(url + "/")
    shoot(driver, out, "home")
    driver.get(url + "/ui/signin")
    shoot(driver, out, "signin", 700)
    by_id("token").send_keys(token)
    by_id("signin-button").click()
    until(lambda d: d.find_elements(By.ID, "user-name"))

    driver.get(url + "/ui/select?target=Crab&radius=10&scw_type=pointing&min_isgri=1000")
    until(lambda d: by_id("status-line").get_attribute("data-rows") is not None)
    shoot(driver, out, "select")
    driver.get(url + "/ui/select?start=2005-01-01&end=2007-12-31&scw_type=pointing&maxrec=5000")
    until(lambda d: by_id("status-line").get_attribute("data-rows") is not None)
    shoot(driver, out, "select_allsky")

    driver.get(url + "/ui/select?target=Crab&radius=10&scw_type=pointing&min_isgri=1000")
    until(lambda d: by_id("status-line").get_attribute("data-rows") is not None)
    by_id("save-button").click()
    until(lambda d: d.find_elements(By.ID, "saved-link"))
    driver.execute_script("document.getElementById('save-form').scrollIntoView()")
    shoot(driver, out, "select_saved", 1000)
    by_id("coverage-link").click()
    until(lambda d: d.find_elements(By.ID, "tool-form"))
    shoot(driver, out, "tool")
    by_id("run-button").click()
    until(lambda d: "/ui/jobs/" in d.current_url)
    until(lambda d: by_id("phase").text in ("COMPLETED", "ERROR"))
    shoot(driver, out, "job")

    driver.get(url + "/ui/jobs")
    shoot(driver, out, "jobs", 700)
    driver.get(url + "/ui/tools")
    shoot(driver, out, "tools")
    driver.get(url + "/ui/workspace/selections/")
    shoot(driver, out, "workspace", 900)
    driver.get(url + "/ui/preview/selections/crab_scw_coverage.fits")
    shoot(driver, out, "preview")


if __name__ == "__main__":
    main()
