import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tests.helpers import make_access
from vpnconsole import roles


def test_an_operator_gets_404_for_another_contracts_access(
    contract_a, contract_b, operator_a, operator_b, shared_gateway
):
    theirs, _ = make_access(contract_b, operator_b)
    with pytest.raises(Http404):
        roles.get_access_for_user(operator_a, theirs.public_id)
    with pytest.raises(Http404):
        roles.get_rw_access_for_user(operator_a, theirs.public_id)
    assert not roles.accesses_for(operator_a).filter(pk=theirs.pk).exists()


def test_support_reads_every_contract_and_writes_nothing(
    contract_a, contract_b, operator_a, operator_b, support, shared_gateway
):
    a, _ = make_access(contract_a, operator_a, name="a")
    b, _ = make_access(contract_b, operator_b, name="b")
    assert set(roles.accesses_for(support)) == {a, b}
    assert roles.get_access_for_user(support, b.public_id) == b
    with pytest.raises(PermissionDenied):
        roles.get_rw_access_for_user(support, a.public_id)
    with pytest.raises(PermissionDenied):
        roles.operator_contract(support)


def test_gateways_are_scoped(
    contract_b, operator_a, operator_b, support, shared_gateway, dedicated_gateway
):
    assert set(roles.gateways_for(operator_a)) == {shared_gateway, dedicated_gateway}
    assert set(roles.gateways_for(operator_b)) == {shared_gateway}
    assert set(roles.gateways_for(support)) == {shared_gateway, dedicated_gateway}


def test_ids_are_prefixed_random_base32(contract_a, operator_a, shared_gateway):
    import re

    access, _ = make_access(contract_a, operator_a)
    assert re.fullmatch(r"va-[a-z2-7]{10}", access.public_id)
    assert re.fullmatch(r"dev-[a-z2-7]{10}", access.device.public_id)
    assert re.fullmatch(r"gw-[a-z2-7]{10}", shared_gateway.public_id)
    second, _ = make_access(contract_a, operator_a, name="second")
    assert second.public_id != access.public_id
