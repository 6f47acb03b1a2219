"""Document type classification from text (no OCR involved)."""

from __future__ import annotations

import pytest

from ingest.classify import DOC_TYPES, OTHER, Classification, classify

HEADER = "EMPRESA NACIONAL DE ENERGÍA ELÉCTRICA\nRegional Central\n\n"

SAMPLES: dict[str, str] = {
    "contrato": HEADER + """CONTRATO DE SUMINISTRO DE ENERGÍA ELÉCTRICA EN BAJA TENSIÓN

NIS: 3254257
Titular: Hugo Giménez Cáceres
Tarifa: Residencial 220V monofásico
Potencia contratada: 5 kW
Garantía de consumo: Gs. 449.000

Entre la Empresa, en adelante la PROVEEDORA, y el titular arriba
individualizado, en adelante el CLIENTE, se conviene el suministro.
""",
    "croquis": HEADER + """CROQUIS DE UBICACIÓN DEL SUMINISTRO
NIS: 8710866
Dirección: Cnel. Bogado N° 829, Luque
Puesto de transformación: PT-5550
Poste N° 918
Vivienda
""",
    "expediente": HEADER + """MESA DE ENTRADA - EXPEDIENTE N° 75882/2025

Asunto: baja del suministro

Señor Jefe de la Sección Control y Seguimiento: Quien suscribe, Mirna
Fernández, con C.I. N° 4.436.942, titular del suministro NIS 7597725,
se dirige a usted a fin de solicitar la baja del suministro.
""",
    "nota_escribania": HEADER + """ESCRIBANÍA INSFRÁN
RUC 80063560-4

Fernando de la Mora, 12 de octubre de 2025

Tengo el agrado de dirigirme a ustedes a fin de solicitar un
certificado de estado de cuenta del suministro NIS 9598322, a los
efectos de la escritura de transferencia del inmueble.

Esc. Luis Insfrán Escobar
Notario Público
""",
    "certificado_estado_cuenta": HEADER + """CERTIFICADO DE ESTADO DE CUENTA

NIS: 1544573
Titular: Juan Giménez González

Se certifica que el suministro arriba citado no registra deuda
pendiente al 4 de octubre de 2006.
""",
    "orden_trabajo": HEADER + """ORDEN DE TRABAJO N° 2006-635069

NIS: 1396522
Motivo: cambio de medidor
Medidor N° 12794159
Fecha de emisión: 24 de septiembre de 2006
Resultado: ____________________
Técnico responsable: ____________________
""",
    "reclamo_electrodomestico": HEADER + """RECLAMO POR ARTEFACTO ELÉCTRICO DAÑADO

NIS: 9789506
Reclamante: María Ortiz Núñez
Artefacto: heladera
El reclamante manifiesta que a causa de una variación de tensión en la
red se dañó su heladera.
""",
    "denuncia_robo_medidor": HEADER + """DENUNCIA DE ROBO DE MEDIDOR

NIS: 3877579
Medidor N° 89377614
Se informa el hurto del medidor para la corrección de los datos del
contrato y la justificación de las facturas emitidas durante el
periodo sin medición.
""",
    "devolucion_garantia": HEADER + """SOLICITUD DE DEVOLUCIÓN DE GARANTÍA DE CONSUMO

NIS: 3267325
Monto de la garantía: Gs. 546.000
Habiendo solicitado la baja del suministro, el titular pide la
devolución de la garantía de consumo abonada al suscribir el contrato.
""",
    "acuerdo_pago": HEADER + """ACUERDO DE PAGO EN CUOTAS

NIS: 6709038
Deuda total: Gs. 6.861.000
Cantidad de cuotas: 6
El titular reconoce la deuda y se compromete a abonarla en las cuotas
indicadas, juntamente con la facturación mensual del suministro.
""",
    "bonificacion_personal": HEADER + """SOLICITUD DE BONIFICACIÓN PARA EL PERSONAL

NIS: 4992383
Funcionario: Derlis Acosta Ríos, Legajo N° 10234
Se solicita aplicar la bonificación tarifaria que corresponde al
personal de la ANDE sobre el suministro de su vivienda.
""",
    "alta_baja": HEADER + """SOLICITUD DE ALTA DE SUMINISTRO

Titular: Celia Duarte Ayala
Dirección: Tte. Fariña N° 120, Asunción
Se solicita la conexión nueva del inmueble, con instalación de
medidor monofásico.
""",
}


def test_every_type_has_a_sample() -> None:
    assert set(SAMPLES) | {OTHER} == set(DOC_TYPES)


@pytest.mark.parametrize("doc_type", sorted(SAMPLES))
def test_one_sample_per_type(doc_type: str) -> None:
    result = classify(SAMPLES[doc_type])
    assert isinstance(result, Classification)
    assert result.doc_type == doc_type, result.scores
    assert 0.3 < result.confidence <= 1.0
    assert set(result.scores) == set(SAMPLES)  # every real type scored, "otro" is the fallback


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\f  ",
        "@@## ~~ ||| .. x7 ,,",
        "EMPRESA NACIONAL DE ENERGÍA ELÉCTRICA\nRegional Sur\n",
    ],
)
def test_nothing_recognisable_is_otro(text: str) -> None:
    result = classify(text)
    assert result.doc_type == OTHER
    assert result.confidence <= 0.3


def test_one_stray_word_is_not_enough() -> None:
    assert classify("Luque, 3 de mayo. Se adjunta la tarifa vigente.").doc_type == OTHER


def test_case_and_accents_do_not_matter() -> None:
    text = "acuerdo de pago en cuotas\nel titular reconoce la deuda"
    assert classify(text).doc_type == "acuerdo_pago"
    assert classify(text.upper()).doc_type == "acuerdo_pago"
    assert classify("DEVOLUCION DE GARANTIA DE CONSUMO").doc_type == "devolucion_garantia"


def test_title_outweighs_a_mention_in_the_body() -> None:
    # The notary's letter asks for a certificate, but it is a notary's letter.
    result = classify(SAMPLES["nota_escribania"])
    assert result.scores["nota_escribania"] > result.scores["certificado_estado_cuenta"]
    # The same phrase as a title makes it a certificate.
    titled = classify("CERTIFICADO DE ESTADO DE CUENTA\nNIS: 1")
    assert titled.doc_type == "certificado_estado_cuenta"


def test_baja_tension_is_not_alta_baja() -> None:
    result = classify(SAMPLES["contrato"])
    assert result.scores["alta_baja"] == 0.0


def test_confidence_reflects_margin() -> None:
    clear = classify(SAMPLES["orden_trabajo"])
    mixed = classify("ACUERDO DE PAGO\nDEVOLUCIÓN DE GARANTÍA")
    assert clear.confidence > mixed.confidence
    assert mixed.doc_type in ("acuerdo_pago", "devolucion_garantia")


def test_only_first_page_titles_weigh_more() -> None:
    # A second page titled "Anexo" mentioning a croquis must not turn a contract into a croquis.
    text = SAMPLES["contrato"] + "\fANEXO\n\nCROQUIS DE UBICACIÓN DEL INMUEBLE ADJUNTO\n"
    assert classify(text).doc_type == "contrato"


def test_ocr_noise_in_body_still_classifies() -> None:
    text = (
        "EMPRESA NAC1ONAL DE ENERGlA ELECTRlCA\n\nDENUNClA DE R0B0 DE MEDID0R\n\n"
        "NIS: 3877579\nSe informa el hurto del medidor para la correccion de los datos.\n"
    )
    assert classify(text).doc_type == "denuncia_robo_medidor"


@pytest.mark.parametrize(
    "text",
    [
        # a photocopied identity card attached to a file: "Policía" must not make it a denuncia
        "REPÚBLICA DEL PARAGUAY\nPOLICÍA NACIONAL\nCÉDULA DE IDENTIDAD CIVIL\nN° 3.603.408",
        # a billing complaint is not an appliance claim
        "RECLAMO POR FACTURACIÓN ELEVADA\nNIS: 4992383",
        # an invoice copy
        "FACTURA N° 001-002-1234567\nNIS: 4992383\nTarifa: Residencial\nTotal: Gs. 456.000",
        "DEVOLUCIÓN DE DOCUMENTOS\nSe devuelven los originales presentados.",
    ],
)
def test_other_documents_are_otro(text: str) -> None:
    assert classify(text).doc_type == OTHER
