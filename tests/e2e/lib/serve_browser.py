"""Drives the live page of `netviz-stitch --serve` in headless chromium (selenium).

argv: URL FIFO ARTEFACT_DIR. The server reads the FIFO as its stdin stream ("alpha"); this
script writes the stream's lines, so it decides when a new flow appears.
"""
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, fifo, artefacts = sys.argv[1], sys.argv[2], sys.argv[3]
T = "2026-12-01T10:00:0%dZ"


def event(kind, sec, lport, raddr, rport, pid, comm, direction="outbound"):
    return {"event": kind, "time": T % sec, "proto": "tcp", "family": "ipv4",
            "local": {"addr": "10.77.0.1", "port": lport},
            "remote": {"addr": raddr, "port": rport}, "direction": direction,
            "pid": pid, "comm": comm, "netns": 1, "first_seen": T % sec, "last_seen": T % sec,
            "bytes_sent": 100, "bytes_received": 200}


stream = open(fifo, "w")


def send(obj):
    stream.write(json.dumps(obj) + "\n")
    stream.flush()


send({"event": "host", "time": T % 0, "netviz": 1,
      "host": {"name": "alpha", "netns": [{"inode": 1, "name": "", "addresses": ["10.77.0.1"]}]}})
send(event("connect", 1, 40000, "10.77.0.2", 5432, 10, "api"))
send(event("connect", 1, 80, "10.77.0.2", 41000, 11, "web", "inbound"))

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
profile = tempfile.mkdtemp(prefix="nv-chromium-")
for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + profile,
             # No name resolves and nothing but the server is reachable: the page must
             # work with what the binary serves.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]:
    opts.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def titles(kind):
    return driver.execute_script(
        "return [...document.querySelectorAll('#canvas g.%s:not(.legend) > title')]"
        ".map(t => t.textContent)" % kind)


def wait(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


try:
    driver.get(url)
    # Generous: under a sanitizer build the first picture can take seconds.
    check(bool(wait(lambda: titles("edge"), 30)), "the page shows the graph's edges")
    edges0 = titles("edge")
    print("edges at start:", edges0)
    check(any("api" in e and "postgres" in e for e in edges0), "the api -> postgres edge is drawn")
    # Everything the page loaded came from the server.
    origins = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    check(all(u.startswith(url.rstrip("/")) for u in origins), "no request left the server: %s" % origins)

    # A flow made now appears as an edge within 2 s.
    send(event("connect", 5, 40001, "10.77.0.2", 6379, 12, "worker"))
    t0 = time.monotonic()
    found = wait(lambda: [e for e in titles("edge") if "worker" in e], 5, 0.02)
    dt = time.monotonic() - t0
    print("new edge after %.2f s: %s" % (dt, found))
    check(bool(found) and dt <= 2.0, "a new flow is an edge within 2 s (%.2f s)" % dt)

    # The hostile comm is text: no element made from it, no alert.
    hostile = "<img src=x onerror=alert(1)>"
    check(driver.execute_script("return document.querySelectorAll('img').length") == 0,
          "no <img> element on the page")
    check(any(hostile in t for t in titles("node")), "the hostile comm is shown as text")
    try:
        driver.switch_to.alert.dismiss()
        check(False, "no alert ran")
    except NoAlertPresentException:
        check(True, "no alert ran")
    driver.save_screenshot(os.path.join(artefacts, "serve-page.png"))

    # A click on a node shows its flows.
    node = driver.find_element(
        By.XPATH, "//*[local-name()='g'][contains(@class,'node')][*[local-name()='title' and text()='p:alpha|api']]")
    driver.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", node)
    details = wait(lambda: driver.find_element(By.ID, "details").text if "5432" in driver.find_element(By.ID, "details").text else "", 3)
    print("details:", details.replace("\n", " | "))
    check("pids" in details and "10" in details and "5432" in details and "first seen" in details,
          "a click on a node shows its flows")
    edge = driver.find_element(
        By.XPATH, "//*[local-name()='g'][contains(@class,'edge')][*[local-name()='title' and contains(text(),'worker')]]")
    driver.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", edge)
    details = wait(lambda: driver.find_element(By.ID, "details").text if "6379" in driver.find_element(By.ID, "details").text else "", 3)
    check("joined" in details and "6379" in details, "a click on an edge shows its flows")
    driver.save_screenshot(os.path.join(artefacts, "serve-click.png"))

    # A filter in the URL hides the other hosts, and stays in the URL.
    driver.get(url + "?host=gamma")
    nodes = wait(lambda: titles("node"), 10)
    print("nodes with host=gamma:", nodes)
    check(bool(nodes) and all(n.startswith("p:gamma|") for n in nodes),
          "?host=gamma shows only gamma's nodes")
    check(driver.find_element(By.ID, "f-host").get_attribute("value") == "gamma",
          "the filter box shows the URL's filter")
    driver.find_element(By.ID, "view").send_keys("host")
    wait(lambda: "view=host" in driver.current_url, 3)
    check("view=host" in driver.current_url and "host=gamma" in driver.current_url,
          "the view switch is kept in the URL with the filter: " + driver.current_url)
    driver.save_screenshot(os.path.join(artefacts, "serve-filtered.png"))
finally:
    driver.quit()
    stream.close()

print("FAILURES: %d" % len(failures))
sys.exit(1 if failures else 0)
