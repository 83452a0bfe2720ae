"""UnitOfWork names the writes that lost, whatever mix of saves, updates and deletes it holds."""
from __future__ import annotations

import pytest

from backend.models.contact import ContactModel, ContactUniqueKey
from backend.services.storage.unit_of_work import UnitOfWork, WriteConflict


def key(name: str, owner: str = "owner") -> ContactUniqueKey:
    return ContactUniqueKey(contactId=name, ownerId=owner)


def test_the_failed_label_is_the_write_that_failed_when_kinds_are_mixed():
    key("phone#kept").save()
    key("phone#taken", owner="someone").save()
    work = UnitOfWork()
    work.save(key("phone#taken"), ContactUniqueKey.contactId.does_not_exist(), label="claim")  # fails
    work.update(ContactModel(contactId="nobody", version=0), [ContactModel.unreadCount.add(1)], label="summary")
    work.delete(key("phone#kept"), ContactUniqueKey.ownerId == "owner", label="release")  # would pass
    with pytest.raises(WriteConflict) as raised:
        work.commit()
    assert raised.value.labels == ["claim"]
    assert ContactUniqueKey.get("phone#kept").ownerId == "owner"  # nothing was written
    assert ContactUniqueKey.get("phone#taken").ownerId == "someone"
