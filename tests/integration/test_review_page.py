"""The review page in a real headless browser, against the deployed stack on the embedded endpoint.

Given pictures of one camera uploaded to the deployed stack (the live function blurred them)
and `camblur review`'s server on 127.0.0.1 with the stack's outputs, when an operator opens the
camera's day in Chromium (Debian's, driven by Selenium), moves through it with the keyboard,
draws a box on a picture and marks the picture and the day reviewed, then the stored item holds
the box (who, when) and the review marks, the published copy is a new version whose pixels
changed inside the box and nowhere else, every image the page loaded came from the server's
/image/ (blurred copies), and the server answers on 127.0.0.1 only.

AWS is stood in for as elsewhere: moto stores, devtools/deliver.py runs the deployed functions.
Lambda's asynchronous Invoke (how add_manual_box asks the live function to re-blur when the live
trigger is s3_async, as in environments/local) is delivered the same way: the server's Lambda
client hands the invocation to the environment's Lambda service, off the request thread.

One browser session. REVIEW_SCREENSHOT=path saves a picture of the day grid beside the picture
view with its boxes (for a closing note; the test never needs it).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image

from camblur.adapters.state import picture_pk
from camblur_cli.deployment import Deployment
from camblur_cli.review.app import ReviewServer
from devtools import samples
from devtools.demo import LocalEnvironment, upload_samples
from tests.integration.deployment import REGION

pytestmark = pytest.mark.integration

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
CAMERA = "review-check"
ACTOR = "arn:aws:iam::123456789012:user/review-test"
WAIT_SECONDS = 120  # for the pipeline to republish; a bound, not a figure
MCU = 16  # JPEG blocks: pixels this close to the box may change with it


@dataclass(frozen=True)
class DeliveredDeployment(Deployment):
    """The stack's names; Lambda's async Invoke goes to the environment's Lambda service."""

    invoke_async: Any = None

    def client(self, service: str, **where: Any) -> Any:
        made = super().client(service, **where)
        if service == "lambda":
            made.meta.events.register("before-call.lambda.Invoke", self._deliver)
        return made

    def _deliver(self, params: dict[str, Any], **_: Any) -> Any:
        assert params["headers"].get("X-Amz-Invocation-Type") == "Event", params["headers"]
        function = params["url_path"].split("/functions/")[1].split("/")[0]
        payload = json.loads(params["body"])
        threading.Thread(target=self.invoke_async, args=(function, payload), daemon=True).start()
        return SimpleNamespace(status_code=202, headers={}), {"StatusCode": 202, "Payload": b""}


@pytest.fixture(scope="module")
def chromium() -> tuple[Path, Path]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver: make browser")
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(scope="module")
def uploaded(local_environment: LocalEnvironment) -> dict[str, str]:
    """Four uploads of one camera (key: expected fate), persons and a van first, then a PNG,
    a picture without persons and a truncated JPEG."""
    chosen = [replace(s, key=f"{CAMERA}/{s.key.split('/', 1)[1]}") for s in samples.generate()]
    del chosen[1]  # the sideways one is the demo's to check
    uploads = upload_samples(local_environment, chosen)
    assert all(upload.delivered and not upload.error for upload in uploads)
    return {upload.key: upload.sample.expect for upload in uploads}


@pytest.fixture(scope="module")
def live_queue_delivered(local_environment: LocalEnvironment) -> Iterator[None]:
    """What AWS's poller does for the live queue (live_trigger sqs), in the background while
    the page waits: the page's reblur requests reach live_blur."""
    stop = threading.Event()

    def deliver() -> None:
        while not stop.wait(0.5):
            local_environment.drain_live_queue()

    thread = threading.Thread(target=deliver, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)


@pytest.fixture(scope="module")
def server(
    local_environment: LocalEnvironment, uploaded: dict[str, str], live_queue_delivered: None
) -> Iterator[ReviewServer]:
    env = local_environment
    outputs = {name: {"value": value} for name, value in env.deployment.outputs.items()}
    plain = Deployment.from_outputs(outputs, endpoint_url=env.aws_url, region=REGION)
    deployment = DeliveredDeployment(
        **{name: getattr(plain, name) for name in plain.__dataclass_fields__},
        invoke_async=env.delivery.lambdas.invoke_async,
    )
    served = ReviewServer(deployment, ACTOR, port=0).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser(chromium: tuple[Path, Path]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium[0])
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1500,1000",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(chromium[1])))
    yield driver
    driver.quit()


def state(env: LocalEnvironment, key: str) -> dict[str, Any]:
    table = env.clients.dynamodb.Table(env.deployment.state_table)
    return dict(table.get_item(Key={"pk": picture_pk(key), "sk": "STATE"})["Item"])


def published(env: LocalEnvironment, key: str) -> tuple[bytes, str]:
    answer = env.clients.s3.get_object(Bucket=env.deployment.blurred_bucket, Key=key)
    return answer["Body"].read(), answer["VersionId"]


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_an_operator_reviews_a_day_and_adds_a_box_in_the_browser(
    local_environment: LocalEnvironment,
    uploaded: dict[str, str],
    server: ReviewServer,
    browser: Any,
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    env, driver = local_environment, browser
    key = next(iter(uploaded))  # two persons and a van
    day = str(state(env, key)["capture_day"])
    wait = WebDriverWait(driver, 30)
    css = driver.find_elements

    # Cameras -> days -> the day's grid, by clicking as an operator does.
    driver.get(server.url)
    wait.until(lambda d: css(By.LINK_TEXT, CAMERA))[0].click()
    wait.until(lambda d: css(By.LINK_TEXT, day))[0].click()
    cards = wait.until(lambda d: css(By.CSS_SELECTOR, "#grid .card") or None)
    assert len(cards) == len(uploaded)
    statuses = [card.find_element(By.CSS_SELECTOR, ".badge").text for card in cards]
    assert sorted(statuses) == ["LIVE_BLURRED"] * 3 + ["REJECTED"]
    wait.until(
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('#grid img')].every(i => i.complete && i.naturalWidth > 0)"
        )
    )
    assert len(css(By.CSS_SELECTOR, "#grid img")) == 3  # the rejected one has no picture
    grid_png = driver.get_screenshot_as_png()

    # Keyboard: arrows move the selection, Enter opens, arrows move between pictures.
    ids = [card.get_attribute("data-id") for card in cards]
    position = ids.index(picture_pk(key).removeprefix("PICTURE#"))
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(position):
        body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ENTER)

    def showing(picture: str) -> Any:
        """The picture view shows `picture` (and its blurred copy, loaded, if it has one)."""
        return lambda d: d.execute_script(
            "const i = document.getElementById('large'), id = arguments[0];"
            "const copy = (i.getAttribute('src') || '').startsWith('/image/' + id);"
            "return location.hash.endsWith('/picture/' + id)"
            " && !document.getElementById('picture-view').hidden"
            " && document.getElementById('picture-status').textContent !== ''"
            " && (copy ? i.complete && i.naturalWidth > 0 && i : !i.getAttribute('src'))",
            picture,
        )

    wait.until(showing(ids[position]))
    other = position + 1 if position == 0 else position - 1
    body.send_keys(Keys.ARROW_RIGHT if position == 0 else Keys.ARROW_LEFT)
    wait.until(showing(ids[other]))
    body.send_keys(Keys.ARROW_LEFT if position == 0 else Keys.ARROW_RIGHT)
    large = wait.until(showing(ids[position]))

    # The picture large, with its recorded boxes drawn by source; a source can be hidden.
    before_item = state(env, key)
    stored_sources = sorted(str(b.get("source")) for b in before_item["boxes"])
    drawn = css(By.CSS_SELECTOR, "#overlay .box")
    assert len(drawn) == len(stored_sources) >= 3  # two persons and a plate at least
    assert {box.get_attribute("data-source") for box in drawn} >= {"person", "plate"}
    body.send_keys("1")  # hide the persons
    assert not any(b.is_displayed() for b in css(By.CSS_SELECTOR, ".box[data-source=person]"))
    body.send_keys("1")
    assert all(b.is_displayed() for b in css(By.CSS_SELECTOR, ".box[data-source=person]"))
    before, before_version = published(env, key)

    # Draw a box where no detector found anything, on texture (where anonymising shows), and add it.
    target = _free_textured_region(pixels(before), before_item["boxes"])
    rect = large.rect
    ActionChains(driver).move_to_element_with_offset(
        large,
        int((target[0] - 0.5) * rect["width"]),
        int((target[1] - 0.5) * rect["height"]),
    ).click_and_hold().move_by_offset(
        int(target[2] * rect["width"]), int(target[3] * rect["height"])
    ).release().perform()
    driver.find_element(By.ID, "add-box").click()
    screenshot_picture = None
    wait_long = WebDriverWait(driver, WAIT_SECONDS)
    wait_long.until(
        lambda d: (
            d.find_element(By.ID, "message").get_attribute("data-state") in ("republished", "error")
        )
    )
    assert driver.find_element(By.ID, "message").get_attribute("data-state") == "republished", (
        driver.find_element(By.ID, "message").text
    )
    wait.until(
        lambda d: d.execute_script(
            "const i = document.getElementById('large'); return i.complete && i.naturalWidth > 0"
        )
    )
    screenshot_picture = driver.get_screenshot_as_png()

    # The stored item: the manual box with who and when, applied to the published copy.
    after_item = state(env, key)
    manual = after_item["manual_boxes"]
    assert len(manual) == 1 and manual[0]["added_by"] == ACTOR
    box = tuple(float(manual[0][side]) for side in ("left", "top", "width", "height"))
    assert np.allclose(box, target, atol=0.01)
    assert any(b.get("source") == "manual" for b in after_item["boxes"])
    # The published object: a new version, anonymised inside the box and unchanged elsewhere.
    after, after_version = published(env, key)
    assert after_version != before_version
    assert driver.find_element(By.ID, "large").get_attribute("data-version") == after_version
    old, new = pixels(before), pixels(after)
    height, width = old.shape[:2]
    left, top = int(box[0] * width), int(box[1] * height)
    right, bottom = int((box[0] + box[2]) * width), int((box[1] + box[3]) * height)
    inside = np.abs(new[top:bottom, left:right] - old[top:bottom, left:right]).mean()
    assert inside > 5, f"the box's region barely changed (mean |diff| {inside:.1f})"
    grow_x, grow_y = int(box[2] * width * 0.3) + MCU, int(box[3] * height * 0.3) + MCU
    outside = np.ones((height, width), dtype=bool)
    outside[max(0, top - grow_y) : bottom + grow_y, max(0, left - grow_x) : right + grow_x] = False
    changed = np.abs(new - old).max(axis=2)[outside]
    assert changed.max() <= 2, f"{(changed > 2).sum()} pixels outside the box changed"

    # Review marks: this picture with "r", then the whole day from the grid.
    body.send_keys("r")
    wait.until(lambda d: d.find_element(By.ID, "picture-reviewed").text.endswith(ACTOR))
    assert state(env, key)["reviewed_by"] == ACTOR
    body.send_keys(Keys.ESCAPE)
    wait.until(lambda d: not d.find_element(By.ID, "day-view").get_attribute("hidden"))
    driver.find_element(By.ID, "day-reviewed").click()
    wait.until(lambda d: len(css(By.CSS_SELECTOR, "#grid .card.reviewed")) == 3)
    for uploaded_key, expect in uploaded.items():
        assert ("reviewed_at" in state(env, uploaded_key)) == (expect != "rejected")

    # Every image the page loaded came from this server's /image/ (the blurred copies).
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert loaded and all(url.startswith(server.url) for url in loaded), loaded
    images = [url for url in loaded if "/image/" in url]
    assert len(images) >= 4 and all(url.startswith(f"{server.url}image/") for url in images)
    raw_bucket = env.deployment.raw_bucket
    assert raw_bucket not in driver.page_source and "X-Amz-" not in " ".join(loaded)

    _save_screenshot(grid_png, screenshot_picture)


def test_camblur_review_listens_on_127_0_0_1_only(
    local_environment: LocalEnvironment, tmp_path: Path
) -> None:
    env = local_environment
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({name: {"value": value} for name, value in env.deployment.outputs.items()})
    )
    camblur = shutil.which("camblur", path=str(Path(sys.executable).parent))
    assert camblur, "make setup installs the camblur command"
    process = subprocess.Popen(
        [camblur, "review", "--env", "local", "--outputs", str(outputs), "--port", "0"],
        env={**os.environ, "AWS_ENDPOINT_URL": env.aws_url, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "review page on http://127.0.0.1:" in line, line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(f"GET / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
        # Another address of this machine (another loopback address stands in for network
        # interfaces a test machine may not have), and IPv6: refused.
        others = [("127.0.0.2", socket.AF_INET), ("::1", socket.AF_INET6)]
        for address, family in others + [(a, socket.AF_INET) for a in _own_addresses()]:
            with pytest.raises(OSError), socket.socket(family) as probe:
                probe.settimeout(2)
                probe.connect((address, port))
    finally:
        process.terminate()
        process.wait(timeout=10)


def _apart(box: tuple[float, ...], stored: dict[str, Any]) -> bool:
    """No overlap, with room for the blur margin and JPEG blocks."""
    s_left, s_top = float(stored["left"]), float(stored["top"])
    s_right, s_bottom = s_left + float(stored["width"]), s_top + float(stored["height"])
    pad = 0.08
    return (
        box[0] > s_right + pad
        or box[0] + box[2] < s_left - pad
        or box[1] > s_bottom + pad
        or box[1] + box[3] < s_top - pad
    )


def _free_textured_region(picture: np.ndarray, boxes: list[dict[str, Any]]) -> tuple[float, ...]:
    """left, top, width, height of the most textured region that no stored box comes near."""
    gray = picture.mean(axis=2)
    height, width = gray.shape
    size = (0.14, 0.18)
    best, found = -1.0, None
    for left in np.arange(0.02, 0.98 - size[0], 0.04):
        for top in np.arange(0.04, 0.96 - size[1], 0.04):
            region = (float(left), float(top), *size)
            if not all(_apart(region, box) for box in boxes):
                continue
            y, x = int(top * height), int(left * width)
            patch = gray[y : y + int(size[1] * height), x : x + int(size[0] * width)]
            texture = float(np.abs(patch - patch.mean()).mean())
            if texture > best:
                best, found = texture, region
    assert found is not None and best > 10, "no free, textured region in the picture"
    return found


def _own_addresses() -> list[str]:
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({entry[4][0] for entry in found} - {"127.0.0.1"})


def _save_screenshot(grid: bytes, picture: bytes | None) -> None:
    target = os.environ.get("REVIEW_SCREENSHOT")
    if not target or picture is None:
        return
    left, right = Image.open(io.BytesIO(grid)), Image.open(io.BytesIO(picture))
    sheet = Image.new(
        "RGB", (left.width + right.width + 10, max(left.height, right.height)), "white"
    )
    sheet.paste(left, (0, 0))
    sheet.paste(right, (left.width + 10, 0))
    sheet.save(target)
    print(f"screenshot saved to {target} at {datetime.now(UTC).isoformat()}")
