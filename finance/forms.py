"""Finance forms: the import upload (the statement filters are plain GET parameters)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class ImportForm(FlaskForm):
    file = FileField(
        _l("Excel file (.xlsx)"),
        validators=[
            FileRequired(_l("Choose the Excel file to import.")),
            FileAllowed(
                ["xlsx"], _l("Upload an Excel workbook (.xlsx), e.g. filled from the template.")
            ),
        ],
    )
