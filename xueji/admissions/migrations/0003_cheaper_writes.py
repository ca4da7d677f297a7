# What every imported row paid for and nothing used: the (school, name) index (no help to the prefix search
# under a non-C collation) and jsonb's conversion of a document read whole. See docs/decisions.md.

from django.db import migrations

import xueji.admissions.models


class Migration(migrations.Migration):
    dependencies = [
        ("admissions", "0002_provenance_without_constraints"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="admissionrecord",
            name="admission_name_idx",
        ),
        migrations.AlterField(
            model_name="admissionrecord",
            name="data",
            field=xueji.admissions.models.StoredJSONField(default=dict),
        ),
    ]
