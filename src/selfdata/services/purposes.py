"""Purposes from the W3C Data Privacy Vocabulary (DPV), with French and English labels.

Services declare why they want data with these terms only, so the citizen sees the same
plain words for the same purpose whichever service asks. Terms are written ``dpv:Name``
and expand to ``https://w3id.org/dpv#Name``. ``own-use`` is selfdata's own purpose for
the citizen using their space.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["DPV_BASE", "LEGAL_BASES", "PURPOSES", "iri"]

DPV_BASE = "https://w3id.org/dpv#"

# term -> (English label, French label)
PURPOSES = MappingProxyType(
    {
        "dpv:ServiceProvision": (
            "Provide the service you asked for",
            "Fournir le service que vous avez demandé",
        ),
        "dpv:ServicePersonalisation": (
            "Personalise the service for you",
            "Personnaliser le service pour vous",
        ),
        "dpv:PersonalisedBenefits": (
            "Give you personalised advice or benefits",
            "Vous donner des conseils ou avantages personnalisés",
        ),
        "dpv:ServiceOptimisation": (
            "Improve how the service works",
            "Améliorer le fonctionnement du service",
        ),
        "dpv:EnforceSecurity": ("Keep the service secure", "Assurer la sécurité du service"),
        "dpv:FraudPreventionAndDetection": (
            "Prevent and detect fraud",
            "Prévenir et détecter la fraude",
        ),
        "dpv:CommunicationManagement": ("Communicate with you", "Communiquer avec vous"),
        "dpv:CustomerCare": (
            "Help you when you ask for support",
            "Vous aider quand vous demandez de l'assistance",
        ),
        "dpv:AccountManagement": ("Manage your account", "Gérer votre compte"),
        "dpv:PaymentManagement": ("Handle payments", "Gérer les paiements"),
        "dpv:ResearchAndDevelopment": ("Research and development", "Recherche et développement"),
        "dpv:ScientificResearch": ("Scientific research", "Recherche scientifique"),
        "dpv:AcademicResearch": ("Academic research", "Recherche universitaire"),
        "dpv:NonCommercialResearch": ("Non-commercial research", "Recherche non commerciale"),
        "dpv:PublicBenefit": ("Projects of general interest", "Projets d'intérêt général"),
        "dpv:CommercialResearch": ("Commercial research", "Recherche commerciale"),
        "dpv:Marketing": ("Marketing", "Marketing"),
        "dpv:PersonalisedAdvertising": ("Personalised advertising", "Publicité personnalisée"),
        "dpv:LegalCompliance": ("Comply with the law", "Respecter la loi"),
        "dpv:RecordManagement": ("Keep records", "Tenir des archives"),
        "dpv:Personalisation": ("Personalisation", "Personnalisation"),
        "dpv:OptimisationForConsumer": (
            "Optimise for you (e.g. save energy, save money)",
            "Optimiser pour vous (économiser de l'énergie, de l'argent)",
        ),
        "dpv:SellDataToThirdParties": (
            "Sell your data to others",
            "Vendre vos données à des tiers",
        ),
    }
)

# GDPR Art. 6 bases as DPV terms, for the recipient's own processing.
LEGAL_BASES = MappingProxyType(
    {
        "dpv:Consent": ("Your consent", "Votre consentement"),
        "dpv:Contract": ("A contract with you", "Un contrat avec vous"),
        "dpv:LegalObligation": ("A legal obligation", "Une obligation légale"),
        "dpv:VitalInterest": ("Your vital interests", "Vos intérêts vitaux"),
        "dpv:PublicInterest": ("A task in the public interest", "Une mission d'intérêt public"),
        "dpv:LegitimateInterest": ("A legitimate interest", "Un intérêt légitime"),
    }
)


def iri(term: str) -> str:
    """``dpv:Name`` as its full IRI."""
    return DPV_BASE + term.removeprefix("dpv:")
