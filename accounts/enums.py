"""The field-of-science taxonomy: the ERC panels (PRODUCT §4.1), used by profiles and proposals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScienceField(models.TextChoices):
    PE1 = "PE1", _("PE1 Mathematics")
    PE2 = "PE2", _("PE2 Fundamental Constituents of Matter")
    PE3 = "PE3", _("PE3 Condensed Matter Physics")
    PE4 = "PE4", _("PE4 Physical and Analytical Chemical Sciences")
    PE5 = "PE5", _("PE5 Synthetic Chemistry and Materials")
    PE6 = "PE6", _("PE6 Computer Science and Informatics")
    PE7 = "PE7", _("PE7 Systems and Communication Engineering")
    PE8 = "PE8", _("PE8 Products and Processes Engineering")
    PE9 = "PE9", _("PE9 Universe Sciences")
    PE10 = "PE10", _("PE10 Earth System Science")
    PE11 = "PE11", _("PE11 Materials Engineering")
    LS1 = "LS1", _("LS1 Molecules of Life")
    LS2 = "LS2", _("LS2 Integrative Biology")
    LS3 = "LS3", _("LS3 Cell Biology, Development and Evolution")
    LS4 = "LS4", _("LS4 Physiology in Health, Disease and Ageing")
    LS5 = "LS5", _("LS5 Neuroscience and Disorders of the Nervous System")
    LS6 = "LS6", _("LS6 Immunity, Infection and Immunotherapy")
    LS7 = "LS7", _("LS7 Prevention, Diagnosis and Treatment of Human Diseases")
    LS8 = "LS8", _("LS8 Environmental Biology, Ecology and Evolution")
    LS9 = "LS9", _("LS9 Biotechnology and Biosystems Engineering")
    LS10 = "LS10", _("LS10 Applied Life Sciences and Non-Medical Biotechnology")
    SH1 = "SH1", _("SH1 Individuals, Markets and Organisations")
    SH2 = "SH2", _("SH2 Institutions, Governance and Legal Systems")
    SH3 = "SH3", _("SH3 The Social World and Its Interactions")
    SH4 = "SH4", _("SH4 The Human Mind and Its Complexity")
    SH5 = "SH5", _("SH5 Texts and Concepts")
    SH6 = "SH6", _("SH6 The Study of the Human Past")
    SH7 = "SH7", _("SH7 Human Mobility, Environment and Space")
    SH8 = "SH8", _("SH8 Studies of Cultures and Arts")
