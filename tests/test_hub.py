"""lamp.hub: where each model is, and what it lacks, without the network except where a test says so."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError
from huggingface_hub.hf_api import ModelInfo

from lamp.hub import (
    HUB,
    HUB_CACHE,
    LOCAL_FOLDER,
    ModelNeed,
    diffusers_model_files,
    diffusers_pipeline_files,
    hub_cache_dir,
    locate_models,
    open_clip_files,
)

SHA = "0123456789abcdef0123456789abcdef01234567"
REPO = "CompVis/stable-diffusion-v1-4"
FILES = (
    "model_index.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors|unet/diffusion_pytorch_model.bin",
)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty hub cache that huggingface_hub would use, online, whatever this machine's environment says."""
    folder = tmp_path / "hf_cache"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return folder


@pytest.fixture
def hub_calls(monkeypatch) -> list[tuple[str, str | None]]:
    """Fails any test that asks the hub without simulating it; simulating tests replace ``answer``."""
    calls: list[tuple[str, str | None]] = []

    def unexpected(self, repo_id, *, revision=None, **_):
        calls.append((repo_id, revision))
        raise AssertionError(f"the hub was asked for {repo_id}")

    monkeypatch.setattr(HfApi, "model_info", unexpected)
    return calls


def simulate_hub(monkeypatch, answer) -> list[tuple[str, str | None]]:
    """``HfApi.model_info`` returning ``answer(repo_id, revision)`` or raising it, recording each call."""
    calls: list[tuple[str, str | None]] = []

    def model_info(self, repo_id, *, revision=None, timeout=None, files_metadata=False, **_):
        calls.append((repo_id, revision))
        assert timeout is not None, "a hub query without a timeout can hang"
        result = answer(repo_id, revision)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(HfApi, "model_info", model_info)
    return calls


def listing(repo_id: str, files: list[str], gated: str | bool = False) -> ModelInfo:
    return ModelInfo(id=repo_id, sha=SHA, gated=gated, siblings=[{"rfilename": name} for name in files])


def http_error(cls: type, status: int, repo_id: str = REPO) -> Exception:
    url = f"https://huggingface.co/api/models/{repo_id}"
    return cls(f"{status} Client Error", response=httpx2.Response(status, request=httpx2.Request("GET", url)))


def cache_model(cache: Path, repo_id: str, files: list[str], revision: str = "main", sha: str = SHA) -> None:
    """``files`` in the hub cache's layout: a ref naming a commit, a snapshot of links into blobs."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(sha)
    (repo / "blobs").mkdir(exist_ok=True)
    for index, name in enumerate(files):
        blob = repo / "blobs" / f"{sha}{index}"
        blob.write_text("{}")
        link = repo / "snapshots" / sha / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../" * (name.count("/") + 2)) / "blobs" / blob.name)


def make_folder(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")
    return root


def test_local_folder_with_every_file_is_found(tmp_path, cache, hub_calls):
    files = ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.bin"]
    (status,) = locate_models([ModelNeed("video base model", str(make_folder(tmp_path / "base", files)), files=FILES)])
    assert (status.found, status.problems, status.ok) == (LOCAL_FOLDER, (), True)
    assert hub_calls == []


def test_local_folder_relative_to_the_working_directory(tmp_path, cache, hub_calls, monkeypatch):
    make_folder(tmp_path / "mini_clip", ["open_clip_config.json", "open_clip_model.safetensors"])
    monkeypatch.chdir(tmp_path)
    (status,) = locate_models([ModelNeed("clip", "mini_clip", files=open_clip_files())])
    assert status.ok and status.found == LOCAL_FOLDER


def test_local_folder_missing_a_file_names_it(tmp_path, cache, hub_calls):
    folder = make_folder(tmp_path / "base", ["model_index.json", "unet/diffusion_pytorch_model.safetensors"])
    role = "video base model (profiles.full.video_base_model)"
    (status,) = locate_models([ModelNeed(role, str(folder), files=FILES)])
    assert not status.ok and status.found == LOCAL_FOLDER
    (problem,) = status.problems
    assert "video base model (profiles.full.video_base_model)" in problem and str(folder) in problem
    assert "unet/config.json" in problem and "model_index.json" not in problem


def test_either_file_of_an_alternative_will_do_and_both_are_named_when_neither_is_there(tmp_path, cache, hub_calls):
    folder = make_folder(tmp_path / "clip", ["open_clip_config.json", "open_clip_pytorch_model.bin"])
    empty = make_folder(tmp_path / "empty_clip", ["open_clip_config.json"])
    found, lacking = locate_models([ModelNeed("clip", str(folder), files=open_clip_files()),
                                    ModelNeed("clip", str(empty), files=open_clip_files())])
    assert found.ok
    assert "open_clip_model.safetensors (or open_clip_pytorch_model.bin)" in lacking.problems[0]


@pytest.mark.parametrize("model", ["./no_such_model", "/no/such/model", "../no_such_model", "~/no_such_model",
                                   "data/06_models/no_such_model", "a_file"])
def test_a_path_that_is_not_a_folder_is_not_asked_of_the_hub(tmp_path, cache, hub_calls, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a model")
    (status,) = locate_models([ModelNeed("first frame model", model, files=FILES)])
    assert status.found is None and not status.ok
    assert "no such folder" in status.problems[0] and "first frame model" in status.problems[0]
    assert hub_calls == []


def test_a_name_that_is_no_hub_id_is_not_asked_of_the_hub(cache, hub_calls):
    (status,) = locate_models([ModelNeed("clip", "not a repo id", files=FILES)])
    assert status.found is None and "hub id" in status.problems[0]


def test_fully_cached_model_is_found_offline_in_the_cache_given_by_the_environment(cache, hub_calls, monkeypatch):
    cache_model(cache, REPO, ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.bin"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # after import: huggingface_hub's constant still says online
    (status,) = locate_models([ModelNeed("video base model", REPO, files=FILES)])
    assert (status.found, status.problems) == (HUB_CACHE, ())


def test_cached_model_is_not_asked_of_the_hub_even_online(cache, hub_calls):
    cache_model(cache, REPO, ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.bin"])
    (status,) = locate_models([ModelNeed("video base model", REPO, files=FILES)], offline=False)
    assert status.found == HUB_CACHE and hub_calls == []


def test_a_revision_is_looked_up_as_that_commit(cache, hub_calls):
    cache_model(cache, REPO, ["open_clip_config.json", "open_clip_model.safetensors"], sha=SHA)
    need = ModelNeed("clip", REPO, revision=SHA, files=open_clip_files())
    other = ModelNeed("clip", REPO, revision="f" * 40, files=open_clip_files())
    pinned, elsewhere = locate_models([need, other], offline=True)
    assert pinned.found == HUB_CACHE
    assert elsewhere.found is None and "--revision " + "f" * 40 in elsewhere.problems[0]


def test_partly_cached_model_offline_names_the_missing_file_and_how_to_get_it(cache, hub_calls, monkeypatch):
    cache_model(cache, REPO, ["model_index.json", "unet/config.json"])
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    (status,) = locate_models([ModelNeed("video base model (profiles.full.video_base_model)", REPO, files=FILES)])
    assert status.found is None and not status.ok
    (problem,) = status.problems
    assert "video base model (profiles.full.video_base_model)" in problem and REPO in problem
    assert "unet/diffusion_pytorch_model.safetensors (or unet/diffusion_pytorch_model.bin)" in problem
    assert "unet/config.json" not in problem.split(";")[0]
    assert "HF_HUB_OFFLINE" in problem and str(cache) in problem
    assert f"`hf download {REPO} unet/diffusion_pytorch_model.safetensors`" in problem
    assert hub_calls == []


def test_download_command_fetches_whole_tokenizer_folders_and_one_weights_file(cache, hub_calls):
    files = diffusers_pipeline_files(["tokenizer", "text_encoder", "scheduler"])
    (status,) = locate_models([ModelNeed("base", REPO, revision="v1", files=files)], offline=True)
    command = status.problems[0].split("`")[1]
    assert command == (
        f"hf download {REPO} model_index.json tokenizer/ text_encoder/config.json text_encoder/model.safetensors "
        "scheduler/ --revision v1"
    )


def test_reachable_hub_with_the_files_is_found_there(cache, monkeypatch):
    cache_model(cache, REPO, ["model_index.json"])
    calls = simulate_hub(monkeypatch, lambda repo, revision: listing(repo, ["model_index.json", "unet/config.json",
                                                                             "unet/diffusion_pytorch_model.bin"]))
    (status,) = locate_models([ModelNeed("video base model", REPO, files=FILES)])
    assert (status.found, status.problems, status.ok) == (HUB, (), True)
    assert calls == [(REPO, None)]


def test_files_the_hub_repo_lacks_are_named(cache, monkeypatch):
    simulate_hub(monkeypatch, lambda repo, revision: listing(repo, ["model_index.json", "unet/config.json"]))
    (status,) = locate_models([ModelNeed("video base model", REPO, files=FILES)])
    assert not status.ok
    assert "has no unet/diffusion_pytorch_model.safetensors (or unet/diffusion_pytorch_model.bin)" in status.problems[0]


def test_missing_repo_and_missing_revision_are_named(cache, monkeypatch):
    def answer(repo, revision):
        return http_error(RevisionNotFoundError if revision else RepositoryNotFoundError, 404, repo)

    calls = simulate_hub(monkeypatch, answer)
    no_repo, no_revision, other = locate_models(
        [ModelNeed("controlnet (edit.controlnet.model)", "org/no-such-model", files=diffusers_model_files()),
         ModelNeed("video base model", REPO, revision="no-such-branch", files=FILES),
         ModelNeed("first frame model", "org/other", files=FILES)]
    )
    assert no_repo.found is None and "no such repo on the hub" in no_repo.problems[0]
    assert "controlnet (edit.controlnet.model) org/no-such-model" in no_repo.problems[0]
    assert "no revision 'no-such-branch'" in no_revision.problems[0]
    assert len(calls) == 3, "a missing repo says nothing about the hub's other repos"


def test_gated_repo_says_to_accept_the_license_and_log_in(cache, monkeypatch):
    simulate_hub(monkeypatch, lambda repo, revision: http_error(GatedRepoError, 403, repo))
    (status,) = locate_models([ModelNeed("first frame model", "stabilityai/gated", files=FILES)])
    assert status.found is None
    assert "gated" in status.problems[0] and "`hf auth login`" in status.problems[0]
    assert "https://huggingface.co/stabilityai/gated" in status.problems[0]


def test_gated_repo_whose_listing_is_public_is_checked_on_one_file(cache, monkeypatch):
    files = ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors"]
    simulate_hub(monkeypatch, lambda repo, revision: listing(repo, files, gated="manual"))
    asked: list[str] = []

    def head(self, *, url, timeout=None, **_):
        asked.append(url)
        raise http_error(GatedRepoError, 401)

    monkeypatch.setattr(HfApi, "get_hf_file_metadata", head)
    (status,) = locate_models([ModelNeed("video base model", REPO, files=FILES)])
    assert status.found is None and "gated" in status.problems[0]
    assert asked == [f"https://huggingface.co/{REPO}/resolve/main/model_index.json"]


def test_connection_error_stops_asking_the_hub(cache, monkeypatch):
    error = httpx2.ConnectError("[Errno -2] Name or service not known")
    calls = simulate_hub(monkeypatch, lambda repo, revision: error)
    needs = [ModelNeed(f"model {i}", f"org/model-{i}", files=FILES) for i in range(3)]
    statuses = locate_models(needs)
    assert len(calls) == 1
    for need, status in zip(needs, statuses):
        assert status.found is None
        (problem,) = status.problems
        assert need.role in problem and need.model in problem
        assert "the hub is unreachable (ConnectError: [Errno -2] Name or service not known)" in problem
        assert f"hf download {need.model} model_index.json" in problem


def test_no_network_and_no_cache_is_reported_in_seconds(cache):
    """The real hub, unsimulated: here the network is absent, elsewhere the repo is."""
    need = ModelNeed("video base model", "lamp-tests/no-such-model-4b1e", files=diffusers_pipeline_files(["unet"]))
    start = time.perf_counter()
    (status,) = locate_models([need])
    elapsed = time.perf_counter() - start
    assert status.found is None and not status.ok and status.problems
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_cache_folder_follows_the_environment_at_call_time(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir() == str(tmp_path / "home" / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert hub_cache_dir() == str(tmp_path / "cache")


def test_files_each_kind_of_model_needs():
    weights = (
        "diffusion_pytorch_model.safetensors|{0}diffusion_pytorch_model.bin|{0}diffusion_pytorch_model.fp16.safetensors"
    )
    assert diffusers_model_files() == ("config.json", weights.format(""))
    assert diffusers_pipeline_files(["unet", "scheduler", "tokenizer_2", "text_encoder_2"]) == (
        "model_index.json",
        "unet/config.json",
        "unet/" + weights.format("unet/"),
        "scheduler/scheduler_config.json",
        "tokenizer_2/tokenizer_config.json|tokenizer_2/vocab.json",
        "text_encoder_2/config.json",
        "text_encoder_2/model.safetensors|text_encoder_2/pytorch_model.bin|text_encoder_2/model.fp16.safetensors",
    )
    assert open_clip_files() == ("open_clip_config.json", "open_clip_model.safetensors|open_clip_pytorch_model.bin")
