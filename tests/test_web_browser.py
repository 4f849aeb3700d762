"""The web interface in a real browser: Debian's headless Chromium driven through
Selenium against the service over real HTTP, with real RQ workers and a demo catalogue.

The end-to-end story of the issue: select science windows around the Crab, save them to
Hera, run scw_coverage on the saved table, watch the job finish, open the PNG product.
"""
from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
import requests
from astropy.io.votable import parse_single_table

from accounts import users

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def chromium(profile: Path):
    """A headless Chromium of the system (never a downloaded one) with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "chromium-profile")
    driver.set_page_load_timeout(60)
    yield driver
    console = driver.get_log("browser")
    driver.quit()
    refused = [entry["message"] for entry in console if "Content Security Policy" in entry["message"]]
    assert not refused, f"the pages did something their Content-Security-Policy forbids: {refused}"
    broken = [entry["message"] for entry in console
              if entry["level"] == "SEVERE" and "/ui/static/" in entry["message"]]
    assert not broken, f"script errors: {broken}"


@pytest.fixture
def alice(app):
    return users.add_user(app.extensions["hera"].engine, "alice", ["integral"])


def wait(driver, condition, timeout=30):
    """Poll ``condition`` until it is true; elements replaced meanwhile (pages reload,
    tables are drawn again) are looked for again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)


def by_id(driver, element_id):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def sign_in(driver, url, token):
    driver.get(url + "/ui/signin")
    by_id(driver, "token").send_keys(token)
    by_id(driver, "signin-button").click()
    wait(driver, lambda d: css(d, "#user-name"))
    assert by_id(driver, "user-name").text == "alice"


def search(driver, url, **fields):
    driver.get(url + "/ui/select")
    for name, value in fields.items():
        element = by_id(driver, name)
        if element.tag_name == "select":
            from selenium.webdriver.support.ui import Select
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    by_id(driver, "search-button").click()
    wait(driver, lambda d: by_id(d, "status-line").get_attribute("data-rows") is not None
         or "failed" in by_id(d, "status-line").text, timeout=60)
    status = by_id(driver, "status-line")
    assert status.get_attribute("data-rows") is not None, status.text
    return int(status.get_attribute("data-rows"))


def column(driver, name):
    """The texts of a column of the result table's current page, by column name."""
    names = [th.get_attribute("data-column") for th in css(driver, "#result-table thead th")]
    index = names.index(name) + 1
    return [td.text for td in css(driver, f"#result-table tbody tr td:nth-child({index})")]


def test_select_crab_save_to_hera_run_scw_coverage_and_open_the_plot(live_server, worker, browser, demo_catalogue, alice):
    sign_in(browser, live_server, alice)

    # select the pointings within 10 deg of the Crab
    n = search(browser, live_server, target="Crab", radius="10", scw_type="pointing")
    assert n > 20
    assert len(css(browser, "#result-table tbody tr")) == min(n, 50)
    assert len(css(browser, "#sky circle.pt")) == n
    assert "within 10° of Crab" in browser.find_element("css selector", "#results h2").text
    assert set(column(browser, "scw_type")) == {"pointing"}
    dist = [float(x) for x in column(browser, "dist")]
    assert max(dist) <= 10

    # save them to Hera (a TAP async job whose result the workspace copies)
    name = by_id(browser, "save-name")
    name.clear()
    name.send_keys("selections/crab_scw.fits")
    by_id(browser, "save-button").click()
    wait(browser, lambda d: css(d, "#saved-link") or "Not saved" in by_id(d, "save-status").text, timeout=90)
    assert by_id(browser, "saved-link").text == "selections/crab_scw.fits", by_id(browser, "save-status").text

    # run scw_coverage on the saved table: the form comes filled in from the selection
    by_id(browser, "coverage-link").click()
    wait(browser, lambda d: css(d, "#tool-form"))
    assert by_id(browser, "user-name").text == "alice"
    assert by_id(browser, "p-scw_table").get_attribute("value") == "selections/crab_scw.fits"
    # the workspace file picker finds the saved table too
    table_field = by_id(browser, "p-scw_table")
    table_field.clear()
    picker = css(browser, "[data-field='scw_table'] .browse-button")[0]
    picker.click()
    wait(browser, lambda d: [a for a in css(d, "[data-field='scw_table'] .browse a") if "selections/" in a.text])[0].click()
    wait(browser, lambda d: css(d, "[data-field='scw_table'] .browse a[data-path='selections/crab_scw.fits']"))[0].click()
    assert table_field.get_attribute("value") == "selections/crab_scw.fits"
    assert float(by_id(browser, "p-ra").get_attribute("value")) == pytest.approx(83.6331)
    assert by_id(browser, "p-plotfile").get_attribute("value") == "selections/crab_scw_coverage.png"
    by_id(browser, "run-button").click()

    # watch the job finish: its page follows it live, without being reloaded by the test
    wait(browser, lambda d: "/ui/jobs/" in d.current_url)
    job_id = browser.current_url.rsplit("/", 1)[1]
    wait(browser, lambda d: by_id(d, "phase").text in ("COMPLETED", "ERROR", "ABORTED"), timeout=180)
    errors = css(browser, "#error-summary")
    assert by_id(browser, "phase").text == "COMPLETED", errors[0].text if errors else ""
    assert browser.current_url.endswith(f"/ui/jobs/{job_id}")

    # open the PNG product
    image = wait(browser, lambda d: [i for i in css(d, "img.result-image") if i.get_attribute("data-result") == "plotfile"])[0]
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 100", image)
    image.click()
    wait(browser, lambda d: d.current_url.endswith("/results/plotfile"))
    assert browser.execute_script("return document.images.length === 1 && document.images[0].naturalWidth > 100")

    # the products are in the workspace too, next to the selection
    browser.get(live_server + "/ui/workspace/selections/")
    names = [a.text for a in css(browser, "#files tbody a.file-link")]
    assert {"crab_scw.fits", "crab_scw_coverage.fits", "crab_scw_coverage.png"} <= set(names)
    browser.get(live_server + "/ui/preview/selections/crab_scw.fits")
    assert len(css(browser, "#hdu-1 table.fits-rows tbody tr")) == min(n, 20)

    # and the jobs page lists both jobs: the TAP query and the tool run
    browser.get(live_server + "/ui/jobs")
    tools = [td.text for td in css(browser, "#jobs-table tbody td:nth-child(2)")]
    assert "scw_coverage" in tools and "TAP query" in tools


def test_the_result_table_sorts_and_pages_and_the_sky_plot_finds_rows(live_server, browser, demo_catalogue):
    n = search(browser, live_server, target="Galactic Centre", radius="15", maxrec="400")
    assert n > 50
    header = [th for th in css(browser, "#result-table th") if th.get_attribute("data-column") == "good_isgri"][0]
    header.click()
    values = [float(v) for v in column(browser, "good_isgri") if v]
    assert values == sorted(values)
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [float(v) for v in column(browser, "good_isgri") if v]
    assert values == sorted(values, reverse=True)
    by_id(browser, "page-next").click()
    assert by_id(browser, "page-info").text.startswith("rows 51–100 of")
    # clicking a point of the sky plot shows its row, highlighted
    point = css(browser, "#sky circle.pt")[-1]
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", point)
    row = css(browser, "#result-table tr.highlight")
    assert len(row) == 1 and row[0].get_attribute("data-row") == point.get_attribute("data-row")
    # anonymous: the save form is disabled and says why; no SAMP hub runs here
    assert not by_id(browser, "save-button").is_enabled()
    wait(browser, lambda d: "no SAMP hub" in by_id(d, "samp-note").text, timeout=10)
    assert not by_id(browser, "samp-button").is_enabled()


def test_a_bad_query_in_the_expert_box_shows_the_services_message(live_server, browser, demo_catalogue):
    browser.get(live_server + "/ui/select")
    wait(browser, lambda d: by_id(d, "examples").is_enabled())
    from selenium.webdriver.support.ui import Select
    examples = Select(by_id(browser, "examples"))
    assert len(examples.options) > 2
    examples.select_by_index(1)
    assert "SELECT" in by_id(browser, "adql").get_attribute("value").upper()
    area = by_id(browser, "adql")
    area.clear()
    area.send_keys("SELECT nonsense FROM integral.scw")
    by_id(browser, "adql-button").click()
    wait(browser, lambda d: "failed" in by_id(d, "status-line").text)
    assert "nonsense" in by_id(browser, "status-line").text


def test_upload_rename_and_delete_in_the_workspace(live_server, browser, alice, tmp_path):
    sign_in(browser, live_server, alice)
    browser.get(live_server + "/ui/workspace/")
    # pieces of 64 kB here (16 MB in service), so that the larger file goes in five
    browser.execute_script("""document.getElementById('workspace').dataset.piece = '65536';
        const set = XMLHttpRequest.prototype.setRequestHeader;   // note the pieces, across the reload
        XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
          if (name === 'Content-Range') {
            sessionStorage.setItem('ranges', (sessionStorage.getItem('ranges') || '') + value + ';');
            this.range = value;
          }
          return set.apply(this, arguments);
        };
        const send = XMLHttpRequest.prototype.send;               // and break the connection once
        XMLHttpRequest.prototype.send = function (body) {
          if (this.range === 'bytes 131072-196607/300000' && !window.broken) {
            window.broken = true;
            setTimeout(() => this.onerror(), 10);
            return;
          }
          return send.apply(this, arguments);
        };""")
    files = []
    for i, size in enumerate((10, 300_000)):
        path = tmp_path / f"upload{i}.dat"
        path.write_bytes(os.urandom(size))
        files.append(str(path))
    by_id(browser, "upload-input").send_keys("\n".join(files))
    wait(browser, lambda d: css(d, "#files tr[data-path='upload1.dat']"), timeout=30)  # the page reloads when done
    rows = {r.get_attribute("data-path"): r for r in css(browser, "#files tbody tr[data-path]")}
    assert set(rows) == {"upload0.dat", "upload1.dat"}
    assert "300.0 kB" in rows["upload1.dat"].text
    ranges = browser.execute_script("return sessionStorage.getItem('ranges')").rstrip(";").split(";")
    pieces = [f"bytes {a}-{min(a + 65536, 300_000) - 1}/300000" for a in range(0, 300_000, 65536)]
    # the third piece broke: the page asked how much had arrived, and sent it again
    assert ranges == pieces[:3] + ["bytes */300000"] + pieces[2:]
    import hashlib
    assert hashlib.sha256(Path(files[1]).read_bytes()).hexdigest() == \
        rows["upload1.dat"].find_element("css selector", "td:nth-child(4)").get_attribute("title")

    rows["upload0.dat"].find_element("css selector", "button.rename").click()
    alert = wait(browser, lambda d: d.switch_to.alert)
    alert.send_keys("data/renamed.dat")
    alert.accept()
    wait(browser, lambda d: css(d, "a[href='/ui/workspace/data/']"))
    assert not css(browser, "#files tr[data-path='upload0.dat']")

    css(browser, "#files tr[data-path='upload1.dat'] button.delete")[0].click()
    wait(browser, lambda d: d.switch_to.alert).dismiss()        # not confirmed: nothing happens
    assert css(browser, "#files tr[data-path='upload1.dat']")
    css(browser, "#files tr[data-path='upload1.dat'] button.delete")[0].click()
    wait(browser, lambda d: d.switch_to.alert).accept()
    wait(browser, lambda d: not css(d, "#files tr[data-path='upload1.dat']"))
    browser.refresh()
    assert [r.get_attribute("data-path") for r in css(browser, "#files tbody tr[data-path]")] == ["data"]
    assert re.search(r"\b1 of \d+ files", by_id(browser, "quota-text").text)


def test_a_running_job_can_be_aborted_from_its_page(app, live_server, worker, browser, alice):
    sign_in(browser, live_server, alice)
    manager = app.extensions["uws"]
    job = manager.create(manager.joblists["test"], "alice", {"sleep": "60"})
    manager.run(job)
    browser.get(f"{live_server}/ui/jobs/{job.id}")
    wait(browser, lambda d: by_id(d, "phase").text == "EXECUTING", timeout=30)  # followed live
    wait(browser, lambda d: re.fullmatch(r"\(running for \d+ s\)", by_id(d, "elapsed").text))
    by_id(browser, "abort-button").click()
    wait(browser, lambda d: by_id(d, "phase").text == "ABORTED", timeout=30)
    assert manager.store.get(job.id).phase.value == "ABORTED"
    by_id(browser, "delete-button").click()
    wait(browser, lambda d: d.switch_to.alert).accept()
    wait(browser, lambda d: d.current_url.endswith("/ui/jobs"))
    assert manager.store.get(job.id) is None


JSAMP = "/usr/share/java/jsamp.jar"


@pytest.fixture
def samp_hub(tmp_path):
    """A real SAMP hub (JSAMP, with the Web Profile on its fixed port 21012, accepting
    web clients without asking) and a JSAMP snooper that prints the messages it gets."""
    import socket
    import subprocess

    if not (shutil.which("java") and os.path.exists(JSAMP)):
        pytest.skip("JSAMP (Debian jsamp, installed with stilts) is not available")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 21012)) == 0:
            pytest.skip("a SAMP Web Profile hub runs already on this computer (port 21012)")
    home = tmp_path / "samp-home"
    home.mkdir()
    java = ["java", f"-Duser.home={home}", "-Djava.awt.headless=true", "-jar", JSAMP]
    hub = subprocess.Popen(java + ["hub", "-mode", "no-gui", "-profiles", "std,web", "-web:auth", "true"],
                           cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = open(tmp_path / "snooper.log", "w")
    snooper = None
    try:
        wait(None, lambda _: (home / ".samp").exists(), timeout=60)
        snooper = subprocess.Popen(java + ["snooper", "-mtype", "table.load.votable"], cwd=home,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        yield tmp_path / "snooper.log"
    finally:
        for proc in (snooper, hub):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
        log.close()


def test_open_in_topcat_sends_the_votable_to_the_samp_hub(live_server, browser, demo_catalogue, samp_hub):
    n = search(browser, live_server, target="Crab", radius="5", scw_type="pointing")
    button = wait(browser, lambda d: by_id(d, "samp-button") if by_id(d, "samp-button").is_enabled() else None, timeout=20)
    button.click()
    wait(browser, lambda d: "Sent to the SAMP hub" in by_id(d, "samp-note").text or "SAMP:" in by_id(d, "samp-note").text,
         timeout=60)
    assert by_id(browser, "samp-note").text == "Sent to the SAMP hub."
    text = wait(None, lambda _: "table.load.votable" in samp_hub.read_text() and samp_hub.read_text(), timeout=30)
    url = re.search(r"(http://127\.0\.0\.1:\d+/tap/sync\?[^\s\"'<>]+)", text).group(1)
    table = parse_single_table(io.BytesIO(requests.get(url, timeout=30).content)).to_table()
    assert len(table) == n and "scw_id" in table.colnames

    # with rows marked, TOPCAT gets those rows only
    marked = column(browser, "scw_id")[:2]
    for k in (0, 1):
        css(browser, "#result-table tbody input.mark")[k].click()
    by_id(browser, "samp-button").click()
    urls = lambda: re.findall(r"(http://127\.0\.0\.1:\d+/tap/sync\?[^\s\"'<>]+)", samp_hub.read_text())
    wait(None, lambda _: len(urls()) >= 2, timeout=60)
    table = parse_single_table(io.BytesIO(requests.get(urls()[-1], timeout=30).content)).to_table()
    assert [str(x) for x in table["scw_id"]] == marked


def test_marked_rows_alone_are_downloaded_and_saved(app, live_server, worker, browser, demo_catalogue, alice, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    sign_in(browser, live_server, alice)
    n = search(browser, live_server, target="Cyg X-1", radius="8")
    assert n > 5
    marked = column(browser, "scw_id")[1:4]
    for k in (1, 2, 3):  # the table is drawn again after each mark: find the boxes anew
        css(browser, "#result-table tbody input.mark")[k].click()
    assert by_id(browser, "marked-info").text.startswith("3 rows marked")
    assert by_id(browser, "save-button").text == "Save 3 marked rows to Hera"
    assert len(css(browser, "#sky circle.pt.marked")) == 3

    by_id(browser, "download-csv").click()
    csv = wait(browser, lambda d: [p for p in downloads.glob("*.csv")], timeout=30)[0]
    wait(browser, lambda d: csv.stat().st_size > 0 and not list(downloads.glob("*.crdownload")))
    lines = csv.read_text().strip().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == marked

    name = by_id(browser, "save-name")
    name.clear()
    name.send_keys("selections/three.fits")
    by_id(browser, "save-button").click()
    wait(browser, lambda d: css(d, "#saved-link") or "Not saved" in by_id(d, "save-status").text, timeout=90)
    from astropy.table import Table
    saved = Table.read(app.extensions["workspaces"].for_user("alice").local_path("selections/three.fits"))
    assert [str(x) for x in saved["scw_id"]] == marked

    by_id(browser, "clear-marks").click()
    assert by_id(browser, "save-button").text == "Save to Hera" and not css(browser, "#sky circle.pt.marked")


def test_a_tool_form_says_what_is_missing_and_what_the_service_refused(live_server, browser, alice):
    sign_in(browser, live_server, alice)
    browser.get(live_server + "/ui/tools/scw_coverage")
    by_id(browser, "run-button").click()
    status = by_id(browser, "tool-status")
    assert status.text.startswith("Please fill in: scw_table, outfile, plotfile")
    by_id(browser, "p-scw_table").send_keys("nowhere/none.fits")
    by_id(browser, "p-outfile").send_keys("out/cov.fits")
    by_id(browser, "p-plotfile").send_keys("out/cov.png")
    by_id(browser, "p-ra").send_keys("400")
    by_id(browser, "run-button").click()
    assert "Out of range or not a number: ra" in by_id(browser, "tool-status").text
    by_id(browser, "p-ra").clear()
    by_id(browser, "run-button").click()
    wait(browser, lambda d: "not created" in by_id(d, "tool-status").text)
    assert "nowhere/none.fits" in by_id(browser, "tool-status").text  # the service's own message
    assert "/ui/tools/scw_coverage" in browser.current_url


#: what the pages draw outside the box that holds it: (box, element, right edge, box's right edge)
OVERFLOW = """
const out = [];
for (const box of document.querySelectorAll(arguments[0])) {
  const edge = box.getBoundingClientRect().right;
  for (const el of box.querySelectorAll('table, th, td, a, dd')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > edge + 0.5) out.push([box.id || box.className, el.tagName, el.textContent.slice(0, 40),
                                                   Math.round(r.right), Math.round(edge)]);
  }
}
return out;
"""

#: the selected option of a <select> that does not fit in it (text width measured in its font;
#: 20 px are the arrow's)
CUT_OPTION = """
const s = arguments[0], cs = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
ctx.font = cs.font;
return ctx.measureText(s.options[s.selectedIndex].text).width
       - (s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20);
"""


def test_long_parameters_stay_inside_the_job_page_and_the_jobs_list_fits_1400_px(app, live_server, browser, alice,
                                                                                 tmp_path):
    from astropy.table import Table

    headers = {"Authorization": f"Bearer {alice}"}
    long_name = "selections/crab_scw_with_a_rather_long_name_2003_2024_all_pointings"
    Table({"GOOD_ISGRI": [1.0], "RA_X": [1.0]}).write(tmp_path / "t.fits")
    requests.put(f"{live_server}/workspace/{long_name}.fits", headers=headers,
                 data=(tmp_path / "t.fits").read_bytes()).raise_for_status()
    jobs = []
    for i in range(3):
        r = requests.post(live_server + "/tools/fselect", headers=headers, allow_redirects=False, data={
            "infile": f"{long_name}.fits[1][GOOD_ISGRI > 1000 && RA_X > 0]",
            "outfile": f"{long_name}_selected_by_isgri_time_and_pointing_direction.fits",
            "expr": "GOOD_ISGRI > 1000 && (RA_X - 83.633)**2 < 100 && RA_X > 0 && GOOD_ISGRI < 1e9 && RA_X < 360",
            "RUNID": f"a-run-id-that-is-fairly-long-{i}"})
        assert r.status_code == 303, r.text
        jobs.append(r.headers["Location"].rsplit("/", 1)[-1])
    browser.set_window_size(1400, 1000)
    sign_in(browser, live_server, alice)

    browser.get(f"{live_server}/ui/jobs/{jobs[0]}")
    assert by_id(browser, "parameters").is_displayed()
    assert browser.execute_script(OVERFLOW, ".card") == []

    browser.get(live_server + "/ui/jobs")
    assert len(css(browser, "#jobs-table tbody tr")) == 3
    assert browser.execute_script(OVERFLOW, ".scroll") == []
    width, room = browser.execute_script("const s = document.querySelector('.scroll'); "
                                         "return [s.scrollWidth, s.clientWidth];")
    assert width <= room, "the jobs list scrolls sideways: its last columns are cut off"
    created = css(browser, "#jobs-table tbody td.when")[0]
    assert created.text.replace("\n", " ").startswith("20")  # the date is there, whole

    browser.get(live_server + "/ui/select")
    for option in ("", "pointing", "slew"):
        browser.execute_script("arguments[0].value = arguments[1];", by_id(browser, "scw_type"), option)
        assert browser.execute_script(CUT_OPTION, by_id(browser, "scw_type")) <= 0, option
