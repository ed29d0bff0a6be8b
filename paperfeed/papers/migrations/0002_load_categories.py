from django.db import migrations


def load(apps, schema_editor):
    from paperfeed.papers.categories import arxiv_categories

    Category = apps.get_model("papers", "Category")
    Category.objects.bulk_create([Category(**row) for row in arxiv_categories()], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
