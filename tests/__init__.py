"""wattsup's tests: a package, so that every folder's modules import each other by their full names
(``from tests.fakes.nvml import FakeNvml``) and no two conftest modules share a name."""
