"""One torch thread for these tests: the machine's 2 cores are shared, and
oversubscribed intra-op threads make small models many times slower."""

import pytest
import torch


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


from tests.wsi_slides import wsi_slides  # noqa: E402, F401 - a session fixture shared with other folders
