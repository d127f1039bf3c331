from django import forms
from django.conf import settings

from ..rvtools.uploads import ALLOWED_EXTENSIONS, extension


class RVToolsUploadForm(forms.Form):
    file = forms.FileField(
        label="RVTools export",
        help_text="An .xlsx workbook, a .zip of RVTools_tab*.csv files, or RVTools_tabvInfo.csv",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )
    vcenter = forms.CharField(
        label="vCenter",
        required=False,
        max_length=200,
        help_text="Only for a trimmed or anonymised export without the VI SDK Server column, and no vMetaData "
        "sheet naming its vCenter: the vCenter its VMs belong to.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        # Django has already spooled the upload to a temporary file; it is refused before it is read
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if uploaded.size > limit:
            raise forms.ValidationError(
                f"{uploaded.name} is {uploaded.size / 2**20:.1f} MB; the largest accepted upload is "
                f"{settings.MAX_UPLOAD_MB} MB."
            )
        if extension(uploaded.name) not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(
                f"{uploaded.name} is not an RVTools export: upload an .xlsx, a .zip of CSV files or a .csv."
            )
        if uploaded.size == 0:
            raise forms.ValidationError(f"{uploaded.name} is empty.")
        return uploaded
