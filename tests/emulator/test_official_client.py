"""Conformance: Datadog's official Python client runs all four operations against a real
emulator server, with its own response-type checking on (the defaults)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v2.api.rum_replay_heatmaps_api import RumReplayHeatmapsApi
from datadog_api_client.v2.model.snapshot import Snapshot
from datadog_api_client.v2.model.snapshot_array import SnapshotArray
from datadog_api_client.v2.model.snapshot_create_request import SnapshotCreateRequest
from datadog_api_client.v2.model.snapshot_create_request_data import SnapshotCreateRequestData
from datadog_api_client.v2.model.snapshot_create_request_data_attributes import (
    SnapshotCreateRequestDataAttributes,
)
from datadog_api_client.v2.model.snapshot_update_request import SnapshotUpdateRequest
from datadog_api_client.v2.model.snapshot_update_request_data import SnapshotUpdateRequestData
from datadog_api_client.v2.model.snapshot_update_request_data_attributes import (
    SnapshotUpdateRequestDataAttributes,
)
from datadog_api_client.v2.model.snapshot_update_request_data_type import (
    SnapshotUpdateRequestDataType,
)

from reconciler.emulator import EmulatorSettings, serve_in_thread

API_KEY, APP_KEY = "conformance-api", "conformance-app"


@pytest.fixture(scope="module")
def api() -> Iterator[RumReplayHeatmapsApi]:
    settings = EmulatorSettings(accepted_keys=((API_KEY, APP_KEY),))
    with serve_in_thread(settings) as url:
        configuration = Configuration(host=url)  # type: ignore[no-untyped-call]
        configuration.api_key["apiKeyAuth"] = API_KEY
        configuration.api_key["appKeyAuth"] = APP_KEY
        with ApiClient(configuration) as client:
            yield RumReplayHeatmapsApi(client)  # type: ignore[no-untyped-call]


def test_all_four_operations(api: RumReplayHeatmapsApi) -> None:
    created = api.create_replay_heatmap_snapshot(
        body=SnapshotCreateRequest(
            data=SnapshotCreateRequestData(
                type=SnapshotUpdateRequestDataType.SNAPSHOTS,
                attributes=SnapshotCreateRequestDataAttributes(
                    application_id="aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb",
                    view_name="/conformance",
                    device_type="desktop",
                    snapshot_name="Conformance",
                    event_id="11111111-2222-3333-4444-555555555555",
                    start=1500,
                    is_device_type_selected_by_user=False,
                    session_id="session-1",
                ),
            )
        )
    )
    assert isinstance(created, Snapshot)
    snapshot_id = created.data.id
    attrs = created.data.attributes
    assert attrs.snapshot_name == "Conformance"
    assert attrs.start == 1500
    assert attrs.org_id == 1234
    assert attrs.created_at.tzinfo is not None  # parsed as a datetime

    listed = api.list_replay_heatmap_snapshots(
        filter_view_name="/conformance",
        filter_application_id="aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb",
        filter_device_type="desktop",
        page_limit=10,
    )
    assert isinstance(listed, SnapshotArray)
    assert [s.id for s in listed.data] == [snapshot_id]

    updated = api.update_replay_heatmap_snapshot(
        snapshot_id=snapshot_id,
        body=SnapshotUpdateRequest(
            data=SnapshotUpdateRequestData(
                id=snapshot_id,
                type=SnapshotUpdateRequestDataType.SNAPSHOTS,
                attributes=SnapshotUpdateRequestDataAttributes(
                    event_id="22222222-2222-3333-4444-555555555555",
                    start=3000,
                    is_device_type_selected_by_user=True,
                ),
            )
        ),
    )
    assert updated.data.attributes.start == 3000
    assert updated.data.attributes.session_id == "session-1"  # absent from the PATCH

    api.delete_replay_heatmap_snapshot(snapshot_id=snapshot_id)  # 204: no body to model
    assert api.list_replay_heatmap_snapshots(filter_view_name="/conformance").data == []


def test_errors_reach_the_official_client_as_api_exceptions(api: RumReplayHeatmapsApi) -> None:
    from datadog_api_client.exceptions import NotFoundException

    with pytest.raises(NotFoundException) as raised:
        api.delete_replay_heatmap_snapshot(snapshot_id="00000000-0000-0000-0000-000000000000")
    assert raised.value.status == 404
