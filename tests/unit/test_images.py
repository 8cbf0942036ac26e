"""Image profiles without Docker: discovery, content tags, FROM parsing, resolution logic."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.container import images
from sandbox.container.images import (
    DebootstrapBase,
    ImageProfile,
    base_image_tag,
    discover_profiles,
    ensure_base_image,
    ensure_image,
    from_images,
    is_offline,
    list_profiles,
    profile_tag,
    profiles_root,
)
from sandbox.container.seam import ContainerHandle, ContainerRequest, ContainerState, ImageInfo
from sandbox.container.transfer import Transfer
from sandbox.errors import (
    BaseImageError,
    ImageBuildError,
    ImageNotFoundError,
    SpecError,
    UsageError,
)
from tests.fakes import FakeEngine as BaseFakeEngine
from tests.fakes import image_info

REPO_IMAGES = Path(__file__).resolve().parents[2] / "images"
TAG_RE = re.compile(r"^sandbox/[a-z0-9._-]+:[0-9a-f]{12}$")


class FakeEngine(BaseFakeEngine):
    """The shared fake whose containers list what an image holds; the labelling build
    after a profile build (a lone ``FROM sha256:...``) is kept apart from real builds."""

    def __init__(self, present: tuple[str, ...] = (), pullable: tuple[str, ...] = ()) -> None:
        super().__init__(present=present, pullable=pullable)
        self.relabelled: list[dict[str, Any]] = []
        self.listed: list[str] = []

    def build(
        self,
        context_dir: Path,
        tag: str,
        *,
        profile: str,
        buildargs: dict[str, str],
        labels: dict[str, str],
        on_line: Callable[[str], None] | None = None,
        nocache: bool = False,
    ) -> ImageInfo:
        dockerfile = (context_dir / "Dockerfile").read_text()
        if not dockerfile.startswith("FROM sha256:"):
            return super().build(
                context_dir,
                tag,
                profile=profile,
                buildargs=buildargs,
                labels=labels,
                on_line=on_line,
                nocache=nocache,
            )
        self.relabelled.append({"tag": tag, "dockerfile": dockerfile, "labels": labels})
        self.present[tag] = image_info(tag, labels)
        return self.present[tag]

    def start(self, request: ContainerRequest) -> ContainerHandle:
        self.listed.append(request.image)
        return FakeListing()


class FakeListing:
    """A finished container that printed what the image holds."""

    id = "l" * 64
    OUTPUT = json.dumps(
        {
            "python": {"version": "3.11.2", "glibc": "2.36", "machine": "x86_64"},
            "distributions": {"PyYAML": "6.0", "boto3": "1.26.27"},
            "modules": ["boto3", "yaml"],
        }
    )

    def wait(self, timeout_s: float | None) -> int | None:
        return 0

    def signal(self, signal_name: str) -> None:
        pass

    def state(self) -> ContainerState:
        return ContainerState(status="exited", exit_code=0, oom_killed=False, error="")

    def logs(self, *, stdout: bool, stderr: bool) -> Iterator[bytes]:
        return iter([self.OUTPUT.encode()] if stdout else [])

    def follow_logs(self) -> Iterator[bytes]:
        return iter([])

    def stats(self) -> Iterator[dict[str, Any]]:
        return iter([])

    def copy_back(self) -> Transfer | None:
        return None

    def push(self, host_path: Path) -> None:
        pass

    def remove(self) -> None:
        pass


def _profile_dir(root: Path, name: str, dockerfile: str, **spec: Any) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "profile.json").write_text(
        json.dumps({"description": f"{name} for tests", "python_version": "3.11", **spec})
    )
    return folder


@pytest.fixture
def real_copy(tmp_path: Path) -> Path:
    """A private copy of the repository's images/ folder."""
    shutil.copytree(REPO_IMAGES, tmp_path / "images")
    return tmp_path / "images"


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    """Two small profiles: one offline (debootstrap base), one on a registry image."""
    root = tmp_path / "profiles"
    base = {"debootstrap": {"suite": "bookworm", "include": ["python3"]}}
    _profile_dir(
        root, "offline", 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCMD ["python3"]\n', base=base
    )
    _profile_dir(root, "online", 'FROM python:3.10-slim\nCMD ["python3"]\n')
    return root


# Discovery -------------------------------------------------------------------------


def test_discovers_the_real_profiles() -> None:
    profiles = discover_profiles(REPO_IMAGES)

    assert {"sklearn-1.2", "py310", "py311"} <= set(profiles)
    offline = profiles["sklearn-1.2"]
    assert offline.base == DebootstrapBase(suite="bookworm", include=("python3",))
    assert offline.registry_base == "debian:bookworm-slim"
    assert any(req.startswith("pyarrow") for req in offline.wheels)
    assert offline.python_version == "3.11"
    assert offline.frameworks["scikit-learn"].startswith("1.2")
    assert profiles["py310"].base is None
    assert profiles["py310"].python_version == "3.10"


def test_only_the_debootstrap_profile_is_offline() -> None:
    profiles = discover_profiles(REPO_IMAGES)

    assert is_offline(profiles["sklearn-1.2"])
    assert not is_offline(profiles["py310"])
    assert not is_offline(profiles["py311"])


def test_profiles_root_honours_the_environment(
    monkeypatch: pytest.MonkeyPatch, tiny_root: Path
) -> None:
    monkeypatch.setenv(images.IMAGES_DIR_ENV, str(tiny_root))

    assert profiles_root() == tiny_root
    assert set(discover_profiles()) == {"offline", "online"}


def test_missing_profiles_folder_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(images.IMAGES_DIR_ENV, str(tmp_path / "nowhere"))

    with pytest.raises(
        UsageError, match=r"no image profiles folder at .*nowhere.*SANDBOX_IMAGES_DIR"
    ):
        profiles_root()


def test_unknown_field_in_profile_json_names_file_and_field(tiny_root: Path) -> None:
    spec_path = tiny_root / "online" / "profile.json"
    spec = json.loads(spec_path.read_text())
    spec_path.write_text(json.dumps({**spec, "whels": ["pyarrow"]}))

    with pytest.raises(SpecError, match=r"online/profile\.json: whels: Extra inputs"):
        discover_profiles(tiny_root)


def test_unknown_field_in_debootstrap_base_is_rejected(tiny_root: Path) -> None:
    spec_path = tiny_root / "offline" / "profile.json"
    spec = json.loads(spec_path.read_text())
    spec["base"]["debootstrap"]["sute"] = "bookworm"
    spec_path.write_text(json.dumps(spec))

    with pytest.raises(SpecError, match=r"base\.debootstrap\.sute"):
        discover_profiles(tiny_root)


def test_profile_without_dockerfile_is_rejected(tiny_root: Path) -> None:
    (tiny_root / "online" / "Dockerfile").unlink()

    with pytest.raises(SpecError, match="no Dockerfile"):
        discover_profiles(tiny_root)


def test_profile_name_must_be_a_valid_image_name(tiny_root: Path) -> None:
    (tiny_root / "online").rename(tiny_root / "Online")

    with pytest.raises(SpecError, match="lower-case"):
        discover_profiles(tiny_root)


# Content tags ----------------------------------------------------------------------


def test_tag_is_stable_across_calls_and_loads() -> None:
    first = profile_tag(discover_profiles(REPO_IMAGES)["sklearn-1.2"])
    second = profile_tag(discover_profiles(REPO_IMAGES)["sklearn-1.2"])

    assert first == second
    assert TAG_RE.match(first)
    assert first.startswith("sandbox/sklearn-1.2:")


def test_tag_does_not_depend_on_where_the_folder_lives(real_copy: Path) -> None:
    original = discover_profiles(REPO_IMAGES)["py310"]
    copied = discover_profiles(real_copy)["py310"]

    assert profile_tag(copied) == profile_tag(original)


@pytest.mark.parametrize("file_name", ["Dockerfile", "profile.json", "extra/requirements.txt"])
def test_tag_changes_when_a_profile_file_changes(real_copy: Path, file_name: str) -> None:
    before = profile_tag(discover_profiles(real_copy)["sklearn-1.2"])
    path = real_copy / "sklearn-1.2" / file_name
    path.parent.mkdir(exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps({**json.loads(path.read_text()), "description": "changed"}))
    else:
        path.write_text((path.read_text() if path.exists() else "") + "\n# changed\n")

    assert profile_tag(discover_profiles(real_copy)["sklearn-1.2"]) != before


def test_tag_ignores_downloaded_wheels_and_pycache(real_copy: Path) -> None:
    before = profile_tag(discover_profiles(real_copy)["sklearn-1.2"])
    for junk in ("wheels/pyarrow-19.0.1-cp311-none-any.whl", "__pycache__/x.pyc"):
        path = real_copy / "sklearn-1.2" / junk
        path.parent.mkdir()
        path.write_bytes(b"not part of the profile")

    assert profile_tag(discover_profiles(real_copy)["sklearn-1.2"]) == before


def test_buildargs_change_the_tag() -> None:
    profile = discover_profiles(REPO_IMAGES)["py311"]

    plain = profile_tag(profile)
    assert profile_tag(profile, {"EXTRA": "1"}) != plain
    assert profile_tag(profile, {"EXTRA": "2"}) != profile_tag(profile, {"EXTRA": "1"})
    assert profile_tag(profile, {}) == plain


def test_base_tag_depends_on_suite_packages_and_variant() -> None:
    base = DebootstrapBase(suite="bookworm", include=("python3",))
    tag = base_image_tag(base)

    assert re.match(r"^sandbox/base-bookworm:[0-9a-f]{12}$", tag)
    assert base_image_tag(DebootstrapBase(suite="bookworm", include=("python3",))) == tag
    assert base_image_tag(DebootstrapBase(suite="bookworm", include=("python3", "curl"))) != tag
    assert (
        base_image_tag(DebootstrapBase(suite="bookworm", include=("python3",), variant="buildd"))
        != tag
    )
    assert base_image_tag(DebootstrapBase(suite="trixie", include=("python3",))) != tag


def test_base_tag_feeds_the_profile_tag(real_copy: Path) -> None:
    before = profile_tag(discover_profiles(real_copy)["sklearn-1.2"])
    spec_path = real_copy / "sklearn-1.2" / "profile.json"
    spec = json.loads(spec_path.read_text())
    spec["base"]["debootstrap"]["include"] = ["python3", "curl"]
    spec_path.write_text(json.dumps(spec))

    assert profile_tag(discover_profiles(real_copy)["sklearn-1.2"]) != before


# FROM parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "buildargs", "expected"),
    [
        ("FROM python:3.10-slim\n", {}, ["python:3.10-slim"]),
        (
            "# comment\nfrom --platform=linux/amd64 debian:bookworm AS base\n",
            {},
            ["debian:bookworm"],
        ),
        (
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n",
            {"BASE_IMAGE": "sandbox/base:1"},
            ["sandbox/base:1"],
        ),
        ("ARG TAG=3.11-slim\nFROM python:$TAG\n", {}, ["python:3.11-slim"]),
        ("ARG TAG=3.11-slim\nFROM python:$TAG\n", {"TAG": "3.10"}, ["python:3.10"]),
        ("FROM python:${TAG:-3.9}\n", {}, ["python:3.9"]),
        ("FROM \\\n  python:3.10-slim \\\n  AS build\n", {}, ["python:3.10-slim"]),
        (
            "FROM python:3.10-slim AS build\nRUN make\nFROM build\nFROM scratch\n"
            "COPY --from=build /x /x\nFROM python:3.10-slim\n",
            {},
            ["python:3.10-slim"],
        ),
        ("FROM golang:1 AS build\nFROM debian:bookworm\n", {}, ["golang:1", "debian:bookworm"]),
    ],
)
def test_from_images(dockerfile: str, buildargs: dict[str, str], expected: list[str]) -> None:
    assert from_images(dockerfile, buildargs) == expected


def test_arg_after_from_is_not_visible_to_later_from_lines() -> None:
    with pytest.raises(SpecError, match="needs a value for build argument LATE"):
        from_images("FROM debian:bookworm\nARG LATE=x\nFROM python:$LATE\n", source="Dockerfile")


def test_from_with_an_unset_argument_names_it() -> None:
    with pytest.raises(
        SpecError, match=r"^df: FROM \$\{BASE_IMAGE\} needs a value for build argument BASE_IMAGE$"
    ):
        from_images("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n", source="df")


def test_from_without_an_image_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="names no image"):
        from_images("FROM --platform=linux/amd64\n")


def test_the_real_offline_profile_starts_from_its_base_tag() -> None:
    profile = discover_profiles(REPO_IMAGES)["sklearn-1.2"]
    assert profile.base is not None
    base = base_image_tag(profile.base)

    assert from_images(profile.dockerfile.read_text(), {"BASE_IMAGE": base}) == [base]


# ensure_image with a fake engine -----------------------------------------------------


def _profile(root: Path, name: str) -> ImageProfile:
    return discover_profiles(root)[name]


def test_existing_tag_is_returned_without_building(tiny_root: Path) -> None:
    tag = profile_tag(_profile(tiny_root, "online"))
    engine = FakeEngine(present=(tag,))

    resolved = ensure_image(engine, "online", root=tiny_root)

    assert resolved.reference == tag
    assert resolved.profile == "online"
    assert resolved.built_now is False
    assert resolved.image_id == engine.present[tag].id
    assert engine.builds == []
    assert engine.pulls == []


def test_absent_tag_is_built_with_labels_and_a_wheels_folder(tiny_root: Path) -> None:
    engine = FakeEngine(present=("python:3.10-slim",))
    lines: list[str] = []

    resolved = ensure_image(engine, "online", root=tiny_root, on_line=lines.append)

    assert resolved.built_now is True
    [build] = engine.builds
    tag = profile_tag(_profile(tiny_root, "online"))
    assert build["tag"] == resolved.reference == tag
    assert build["profile"] == "online"
    assert build["buildargs"] == {}
    assert build["labels"] == {
        "sandbox.tool": "sandbox",
        "sandbox.profile": "online",
        "sandbox.profile-hash": tag.rpartition(":")[2],
    }
    assert build["files"] == ["Dockerfile", "profile.json", "wheels"]
    assert any(line.startswith("==> building") for line in lines)
    assert engine.pulls == []


def test_offline_profile_builds_on_its_existing_base(tiny_root: Path) -> None:
    profile = _profile(tiny_root, "offline")
    assert profile.base is not None
    base = base_image_tag(profile.base)
    engine = FakeEngine(present=(base,))

    resolved = ensure_image(engine, "offline", root=tiny_root)

    assert resolved.built_now is True
    assert engine.builds[0]["buildargs"] == {"BASE_IMAGE": base}
    assert engine.pulls == []


def test_rebuild_builds_even_when_the_tag_exists(tiny_root: Path) -> None:
    tag = profile_tag(_profile(tiny_root, "online"))
    engine = FakeEngine(present=(tag, "python:3.10-slim"))

    resolved = ensure_image(engine, "online", root=tiny_root, rebuild=True)

    assert resolved.built_now is True
    assert len(engine.builds) == 1


def test_registry_base_is_pulled_when_absent(tiny_root: Path) -> None:
    engine = FakeEngine(pullable=("python:3.10-slim",))

    ensure_image(engine, "online", root=tiny_root)

    assert engine.pulls == ["python:3.10-slim"]
    assert len(engine.builds) == 1


def test_unpullable_registry_base_names_it_and_the_offline_profile(tiny_root: Path) -> None:
    engine = FakeEngine()

    with pytest.raises(BaseImageError) as caught:
        ensure_image(engine, "online", root=tiny_root)

    message = str(caught.value)
    assert "\n" not in message
    assert "'online'" in message
    assert "base image 'python:3.10-slim' cannot be pulled here" in message
    assert message.endswith("the 'offline' profile builds offline")
    assert engine.builds == []


def test_real_py310_profile_points_at_sklearn_when_its_base_cannot_be_pulled() -> None:
    with pytest.raises(
        BaseImageError,
        match=r"'python:3\.10-slim'.*the 'sklearn-1\.2' or 'xgboost-1\.7' profile builds offline",
    ):
        ensure_image(FakeEngine(), "py310", root=REPO_IMAGES)


def test_unknown_name_lists_the_profiles(tiny_root: Path) -> None:
    engine = FakeEngine()

    with pytest.raises(
        UsageError, match=r"'sklearn-1\.3' is neither an image profile \(known: offline, online\)"
    ):
        ensure_image(engine, "sklearn-1.3", root=tiny_root)
    assert engine.pulls == []


def test_bare_name_of_a_local_image_is_used(tiny_root: Path) -> None:
    engine = FakeEngine(present=("myimage",))

    resolved = ensure_image(engine, "myimage", root=tiny_root)

    assert (resolved.reference, resolved.profile, resolved.built_now) == ("myimage", None, False)


def test_image_reference_is_pulled_when_absent(tiny_root: Path) -> None:
    engine = FakeEngine(pullable=("registry.example/team/image:1",))

    resolved = ensure_image(engine, "registry.example/team/image:1", root=tiny_root)

    assert engine.pulls == ["registry.example/team/image:1"]
    assert resolved.profile is None
    assert resolved.built_now is False


def test_image_reference_that_cannot_be_pulled_raises(tiny_root: Path) -> None:
    with pytest.raises(
        ImageNotFoundError, match=r"'python:3\.99' is not present and cannot be pulled"
    ):
        ensure_image(FakeEngine(), "python:3.99", root=tiny_root)


def test_image_reference_works_without_a_profiles_folder(tmp_path: Path) -> None:
    engine = FakeEngine(present=("python:3.11-slim",))

    resolved = ensure_image(engine, "python:3.11-slim", root=tmp_path / "none")

    assert resolved.reference == "python:3.11-slim"


def test_failed_wheel_download_names_the_requirement(
    tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No index and no pip config: pip fails at once, with no network.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    folder = _profile_dir(
        tiny_root, "wheely", "FROM python:3.10-slim\n", wheels=["sandbox-no-such-package==0.0.1"]
    )
    engine = FakeEngine(present=("python:3.10-slim",))

    with pytest.raises(ImageBuildError) as caught:
        ensure_image(engine, folder.name, root=tiny_root)

    assert "could not download wheels for 'sandbox-no-such-package==0.0.1'" in str(caught.value)
    assert caught.value.profile == "wheely"
    assert caught.value.log_tail
    assert engine.builds == []


def test_list_profiles_reports_built_and_offline(tiny_root: Path) -> None:
    online_tag = profile_tag(_profile(tiny_root, "online"))
    engine = FakeEngine(present=(online_tag,))

    statuses = {status.profile: status for status in list_profiles(engine, tiny_root)}

    assert statuses["online"].built is True
    assert statuses["online"].image_id == engine.present[online_tag].id
    assert statuses["online"].offline is False
    assert statuses["offline"].built is False
    assert statuses["offline"].image_id is None
    assert statuses["offline"].offline is True
    assert statuses["offline"].description == "offline for tests"


# A debootstrap base, or the same release from a registry ------------------------------


@pytest.fixture
def both_ways(tmp_path: Path) -> Path:
    """An offline profile that also names its Debian release in a registry."""
    root = tmp_path / "profiles"
    base = {
        "debootstrap": {"suite": "bookworm", "include": ["python3"]},
        "registry": "debian:bookworm-slim",
    }
    _profile_dir(root, "both", 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCMD ["python3"]\n', base=base)
    return root


@pytest.fixture
def not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host where debootstrap cannot run: not root."""
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)


@pytest.mark.usefixtures("not_root")
def test_without_root_the_registry_base_is_pulled_and_built_on(both_ways: Path) -> None:
    engine = FakeEngine(pullable=("debian:bookworm-slim",))
    lines: list[str] = []

    resolved = ensure_image(engine, "both", root=both_ways, on_line=lines.append)

    profile = _profile(both_ways, "both")
    assert engine.pulls == ["debian:bookworm-slim"]
    assert engine.builds[0]["buildargs"] == {"BASE_IMAGE": "debian:bookworm-slim"}
    assert resolved.reference == profile_tag(profile, base_image="debian:bookworm-slim")
    assert resolved.reference != profile_tag(profile)
    assert any("starting from debian:bookworm-slim" in line for line in lines)


@pytest.mark.usefixtures("not_root")
def test_without_root_an_existing_debootstrap_base_is_still_preferred(both_ways: Path) -> None:
    profile = _profile(both_ways, "both")
    assert profile.base is not None
    engine = FakeEngine(present=(base_image_tag(profile.base),))

    resolved = ensure_image(engine, "both", root=both_ways)

    assert engine.pulls == []
    assert resolved.reference == profile_tag(profile)


def test_as_root_with_debootstrap_the_registry_is_not_asked(
    both_ways: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images.os, "geteuid", lambda: 0)
    monkeypatch.setattr(images.shutil, "which", lambda name: f"/usr/sbin/{name}")
    profile = _profile(both_ways, "both")

    assert profile.base is not None
    assert images.chosen_base(FakeEngine(), profile) == base_image_tag(profile.base)


@pytest.mark.usefixtures("not_root")
def test_without_root_and_registry_the_error_names_both_ways(both_ways: Path) -> None:
    engine = FakeEngine()

    with pytest.raises(BaseImageError) as caught:
        ensure_image(engine, "both", root=both_ways)

    message = str(caught.value)
    assert "\n" not in message
    assert "base image 'debian:bookworm-slim' cannot be pulled here" in message
    assert message.endswith("making the base locally instead needs root and debootstrap")
    assert engine.builds == []


@pytest.mark.usefixtures("not_root")
def test_list_profiles_without_root_shows_the_registry_based_tag(both_ways: Path) -> None:
    profile = _profile(both_ways, "both")
    tag = profile_tag(profile, base_image="debian:bookworm-slim")
    engine = FakeEngine(present=(tag,))

    (status,) = list_profiles(engine, both_ways)

    assert status.tag == tag
    assert status.built is True
    assert status.offline is False


def test_registry_base_must_be_an_image_reference(tmp_path: Path) -> None:
    base = {"debootstrap": {"suite": "bookworm"}, "registry": "Debian Bookworm"}
    _profile_dir(tmp_path / "p", "bad", "FROM x\n", base=base)

    with pytest.raises(SpecError, match=r"profile\.json: base\.registry"):
        discover_profiles(tmp_path / "p")


# ensure_base_image -----------------------------------------------------------------


def test_existing_base_image_is_reused() -> None:
    base = DebootstrapBase(suite="bookworm", include=("python3",))
    engine = FakeEngine(present=(base_image_tag(base),))

    assert ensure_base_image(engine, base) == base_image_tag(base)


def test_base_image_without_debootstrap_says_what_is_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    base = DebootstrapBase(suite="bookworm", include=("python3",))

    with pytest.raises(BaseImageError) as caught:
        ensure_base_image(FakeEngine(), base)

    assert caught.value.detail == (
        "building the base image needs root and debootstrap (apt-get install debootstrap)"
    )


def test_missing_debootstrap_is_reported_against_the_profile(
    tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images.shutil, "which", lambda name: None)

    with pytest.raises(BaseImageError) as caught:
        ensure_image(FakeEngine(), "offline", root=tiny_root)

    assert caught.value.profile == "offline"
    assert "needs root and debootstrap" in str(caught.value)


def test_built_profile_records_its_distributions_in_labels(tiny_root: Path) -> None:
    engine = FakeEngine(
        present=(base_image_tag(DebootstrapBase(suite="bookworm", include=("python3",))),)
    )

    resolved = ensure_image(engine, "offline", root=tiny_root)

    assert len(engine.listed) == 1
    assert engine.relabelled[0]["tag"] == resolved.reference
    labels = engine.present[resolved.reference].labels
    assert json.loads(labels["sandbox.distributions"]) == {"PyYAML": "6.0", "boto3": "1.26.27"}
    assert resolved.contents.version_of("pyyaml") == "6.0"
    assert resolved.contents.python_version == "3.11.2"
    assert "yaml" in resolved.contents.modules
    listed = {status.profile: status for status in list_profiles(engine, tiny_root)}
    assert listed["offline"].distributions["boto3"] == "1.26.27"
    assert listed["online"].distributions == {}


# What an image holds that no label records --------------------------------------------


def test_an_unlabelled_image_reference_is_listed_once_and_cached(tiny_root: Path) -> None:
    engine = FakeEngine(present=("registry.example/team/image:1",))

    first = ensure_image(engine, "registry.example/team/image:1", root=tiny_root)
    second = ensure_image(engine, "registry.example/team/image:1", root=tiny_root)

    assert engine.listed == [engine.present["registry.example/team/image:1"].id]
    assert first.contents.version_of("pyyaml") == "6.0"
    assert second.contents == first.contents
    assert "yaml" in second.contents.modules


def test_an_image_without_python_is_listed_once_and_records_nothing(tiny_root: Path) -> None:
    class NoPython(FakeEngine):
        def start(self, request: ContainerRequest) -> ContainerHandle:
            self.listed.append(request.image)
            return FailedListing()

    engine = NoPython(present=("busybox:1",))

    first = ensure_image(engine, "busybox:1", root=tiny_root)
    second = ensure_image(engine, "busybox:1", root=tiny_root)

    assert not first.contents.recorded and not second.contents.recorded
    assert len(engine.listed) == 1


def test_a_listing_that_timed_out_is_asked_again_next_time(tiny_root: Path) -> None:
    class Busy(FakeEngine):
        def start(self, request: ContainerRequest) -> ContainerHandle:
            self.listed.append(request.image)
            return TimedOutListing() if len(self.listed) == 1 else FakeListing()

    engine = Busy(present=("registry.example/team/image:1",))

    first = ensure_image(engine, "registry.example/team/image:1", root=tiny_root)
    second = ensure_image(engine, "registry.example/team/image:1", root=tiny_root)

    assert not first.contents.recorded
    assert second.contents.version_of("boto3") == "1.26.27"
    assert len(engine.listed) == 2


class TimedOutListing(FakeListing):
    """A container still running when the wait gave up."""

    def wait(self, timeout_s: float | None) -> int | None:
        return None


class FailedListing(FakeListing):
    """A container whose image has no python3: exit 127, nothing on stdout."""

    def wait(self, timeout_s: float | None) -> int | None:
        return 127

    def logs(self, *, stdout: bool, stderr: bool) -> Iterator[bytes]:
        return iter([] if stdout else [b'exec: "python3": executable file not found in $PATH'])


# Stale images --------------------------------------------------------------------------


def _built(engine: FakeEngine, tag: str, **labels: str) -> None:
    engine.present[tag] = image_info(tag, {"sandbox.tool": "sandbox", **labels})


def test_prune_removes_old_profile_tags_and_their_derived_images_only(tiny_root: Path) -> None:
    from sandbox.container.prune import prune_images, stale_images

    current = profile_tag(_profile(tiny_root, "online"))
    engine = FakeEngine()
    _built(engine, current, **{"sandbox.profile": "online"})
    _built(engine, "sandbox/online:0123456789ab", **{"sandbox.profile": "online"})
    _built(engine, "sandbox/online-req:aaaaaaaaaaaa", **{"sandbox.derived-from": current})
    _built(
        engine,
        "sandbox/online-req:bbbbbbbbbbbb",
        **{"sandbox.derived-from": "sandbox/online:0123456789ab"},
    )
    _built(engine, "sandbox/theirs:0123456789ab", **{"sandbox.profile": "theirs"})
    _built(engine, "team/custom:1", **{"sandbox.profile": "online"})  # a FROM of ours
    engine.in_use.add("sandbox/online-req:bbbbbbbbbbbb")

    assert stale_images(engine, tiny_root) == [
        "sandbox/online-req:bbbbbbbbbbbb",
        "sandbox/online:0123456789ab",
    ]
    outcome = prune_images(engine, tiny_root)

    assert outcome.removed == ["sandbox/online:0123456789ab"]
    assert outcome.in_use == ["sandbox/online-req:bbbbbbbbbbbb"]
    assert current in engine.present and "sandbox/theirs:0123456789ab" in engine.present
    assert "team/custom:1" in engine.present


def test_prune_keeps_the_tag_built_on_either_base(both_ways: Path) -> None:
    """On a shared engine, root's prune keeps the image a user without root built on the
    registry base, and the other way round."""
    from sandbox.container.prune import stale_images

    profile = _profile(both_ways, "both")
    engine = FakeEngine()
    on_registry = profile_tag(profile, base_image="debian:bookworm-slim")
    _built(engine, profile_tag(profile), **{"sandbox.profile": "both"})
    _built(engine, on_registry, **{"sandbox.profile": "both"})
    _built(engine, "sandbox/both:0123456789ab", **{"sandbox.profile": "both"})

    assert stale_images(engine, both_ways) == ["sandbox/both:0123456789ab"]
