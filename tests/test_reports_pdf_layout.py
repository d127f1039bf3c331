"""The PDF summaries stay readable when the estate is crowded: long names without a space to break at,
many waves, long messages and comments. No two pieces of text overlap, and all text stays on the page.
The positions are read back from the PDF itself (tests/pdf_layout.py)."""

import pytest

from migrations_app.choices import Decision, FindingSeverity, WaveStatus
from migrations_app.models import Approval, ReadinessFinding
from tests.factories import make_estate, make_vm, make_wave
from tests.pdf_layout import overlapping, text_boxes
from tests.test_dashboard import fail, running_wave

pytestmark = pytest.mark.django_db

UNBROKEN = "wave-" + "-".join(f"segment{n:02d}" for n in range(16))  # 160 characters, no space
VM_NAME = "vm-" + "".join(f"part{n:02d}" for n in range(30))  # 183 characters, no space


def assert_laid_out(data: bytes):
    sizes, boxes = text_boxes(data)
    assert boxes
    clashes = overlapping(boxes)
    assert not clashes, [
        (
            a.page,
            a.text[:40],
            round(a.x0),
            round(a.x1),
            round(a.y0),
            b.text[:40],
            round(b.x0),
            round(b.x1),
            round(b.y0),
        )
        for a, b in clashes[:10]
    ]
    for box in boxes:
        width, height = sizes[box.page - 1]
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, (box.page, box.text)
    return boxes


def test_the_layout_reader_sees_what_overlaps():
    """The check itself: two strings drawn over each other are found, side by side they are not."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(100, 700, "over")
    canvas.drawString(110, 702, "lapping")
    canvas.drawString(300, 700, "apart")
    canvas.save()
    _, boxes = text_boxes(out.getvalue())
    assert {b.text for b in boxes} == {"over", "lapping", "apart"}
    assert [(a.text, b.text) for a, b in overlapping(boxes)] == [("over", "lapping")]


@pytest.fixture
def crowded(admin_user):
    estate = make_estate(vms=6)
    long_vm = make_vm(estate.vcenter, VM_NAME, used_mib=2048)
    wave = running_wave([*estate.vms, long_vm], UNBROKEN)
    fail(
        wave.migrations.get(vm=long_vm),
        message=("HCX said: " + "Error_" * 40 + " and more words after it. ") * 3,
    )
    for number in range(40):
        make_wave(f"{UNBROKEN[:120]}-{number:02d}", vms=[], status=WaveStatus.DRAFT, sequence=number + 2)
    Approval.objects.create(
        wave=wave,
        revision=1,
        decision=Decision.APPROVED,
        user=admin_user,
        change_ticket="CHG" + "0" * 97,
        comment="ok-" * 150,
    )
    for vm in [long_vm, *estate.vms]:
        ReadinessFinding.objects.create(
            wave=wave,
            vm=vm,
            rule="vm_power_state",
            severity=FindingSeverity.BLOCKER,
            message="Powered off",
            migration_type="bulk",
        )
    return wave


def test_the_programme_pdf_of_a_crowded_estate_has_no_overlapping_text(client_for, stakeholder, crowded):
    response = client_for(stakeholder).get("/plan/reports/programme.pdf")
    assert response.status_code == 200
    boxes = assert_laid_out(response.content)
    assert any("segment15" in b.text for b in boxes)  # the long name is there, wrapped, not dropped


def test_the_wave_pdf_of_a_crowded_wave_has_no_overlapping_text(client_for, stakeholder, crowded):
    response = client_for(stakeholder).get(f"/plan/waves/{crowded.pk}/report.pdf")
    assert response.status_code == 200
    boxes = assert_laid_out(response.content)
    assert any("part29" in b.text for b in boxes)


def test_a_count_of_nothing_is_written_as_0(client_for, stakeholder, crowded):
    """Cells are Paragraphs now: a zero must still be written, not left blank."""
    _, boxes = text_boxes(client_for(stakeholder).get("/plan/reports/programme.pdf").content)
    assert "0" in {b.text.strip() for b in boxes}
