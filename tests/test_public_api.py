"""The public API: every name in ``search.__all__`` works and is documented, ``import search``
stays cheap, and the package is typed (``py.typed``, ``mypy --strict``)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import search

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("whoosh", "nltk", "bs4", "frontmatter", "ftfy", "click", "lxml", "yaml")


def test_every_public_name_resolves_and_is_documented() -> None:
    assert len(search.__all__) == len(set(search.__all__))
    for name in search.__all__:
        value = getattr(search, name)
        if name == "__version__":
            assert isinstance(value, str) and value.count(".") == 2
            continue
        # Its own docstring: not one inherited, nor the signature dataclasses write when there is none.
        doc = value.__doc__ or ""
        assert doc.strip() and not doc.startswith(f"{name}("), f"search.{name} has no docstring"
        assert value.__module__.startswith("search"), name


def test_public_methods_are_documented() -> None:
    for cls in (search.Index, search.RemoteIndex, search.Results, search.Hit, search.Snippet, search.IndexStats, search.UpdateSummary):
        for name, member in vars(cls).items():
            if not name.startswith("_") and (callable(member) or isinstance(member, property)):
                assert (member.__doc__ or "").strip(), f"{cls.__name__}.{name} has no docstring"


def test_errors_form_one_hierarchy() -> None:
    for name in ("QueryError", "IndexNotFoundError", "IndexLockedError", "IndexDamagedError", "ArticleError"):
        assert issubclass(getattr(search, name), search.SearchError), name
    assert issubclass(search.SearchError, Exception)
    error = search.ArticleError("a.md", "not UTF-8")
    assert (str(error), error.path, error.reason) == ("a.md: not UTF-8", "a.md", "not UTF-8")


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        search.nonsense  # noqa: B018
    assert "open_index" in dir(search)


def test_import_search_loads_no_heavy_modules() -> None:
    code = ("import search, sys; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_first_use_of_a_lazy_name_loads_its_module() -> None:
    code = "import search, sys; search.open_index; print('whoosh' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "True"


def test_a_search_loads_no_writing_code(sample_index: search.Index) -> None:
    code = (f"import search, sys; search.open_index({str(sample_index.path)!r}).search('harbour'); "
            "print(sorted(m for m in sys.modules if m in {'search.index.update', 'search.index.workers', 'multiprocessing'}))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_package_is_marked_typed() -> None:
    assert (ROOT / "search" / "py.typed").is_file()


def test_mypy_strict_passes() -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        pytest.skip("mypy is not installed")
    result = subprocess.run([mypy, "--strict", "search"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
