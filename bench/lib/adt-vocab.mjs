// @ts-check
/**
 * Invented value pools for the ADT generator. Everything here is synthetic (no real people,
 * NPIs or member ids); values are shaped like a Massachusetts Medicaid (MassHealth) ACO feed.
 * Text that contains HL7 delimiters (&, ^) is kept raw here and escaped by the generator.
 */

/** A coded value [code, display] with its relative frequency. @typedef {[[string, string], number][]} Weighted */

export const FAMILY_NAMES = [
  'SMITH',
  'JOHNSON',
  'WILLIAMS',
  'BROWN',
  'JONES',
  'GARCIA',
  'MILLER',
  'DAVIS',
  'RODRIGUEZ',
  'MARTINEZ',
  'HERNANDEZ',
  'LOPEZ',
  'GONZALEZ',
  'WILSON',
  'ANDERSON',
  'THOMAS',
  'TAYLOR',
  'MOORE',
  'JACKSON',
  'MARTIN',
  'LEE',
  'PEREZ',
  'THOMPSON',
  'WHITE',
  'HARRIS',
  'SANCHEZ',
  'CLARK',
  'RAMIREZ',
  'LEWIS',
  'ROBINSON',
  "O'BRIEN",
  "O'CONNOR",
  'MCCARTHY',
  'SULLIVAN',
  'MURPHY',
  'NGUYEN',
  'TRAN',
  'PHAM',
  'CHEN',
  'WANG',
  'PIERRE',
  'JEAN-BAPTISTE',
  'SILVA',
  'SANTOS',
  'PEREIRA',
  'GARCIA-LOPEZ',
  'DE LA CRUZ',
  'VAN DYKE',
  'OKAFOR',
  'MENSAH',
];

export const FEMALE_GIVEN = [
  'MARY',
  'PATRICIA',
  'JENNIFER',
  'LINDA',
  'ELIZABETH',
  'MARIA',
  'SUSAN',
  'JESSICA',
  'SARAH',
  'KAREN',
  'NANCY',
  'LISA',
  'BETTY',
  'SANDRA',
  'ASHLEY',
  'ANA',
  'LUCIA',
  'MIN',
  'THUY',
  'FATIMA',
  'MARIE-CLAIRE',
  'ROSA',
];

export const MALE_GIVEN = [
  'JAMES',
  'ROBERT',
  'JOHN',
  'MICHAEL',
  'DAVID',
  'WILLIAM',
  'RICHARD',
  'JOSEPH',
  'THOMAS',
  'CHARLES',
  'CARLOS',
  'JOSE',
  'LUIS',
  'WEI',
  'MINH',
  'JEAN',
  'KWAME',
  'AHMED',
  'PATRICK',
  'SEAN',
  'JUAN PABLO',
  'DANIEL',
];

export const NAME_SUFFIXES = ['JR', 'SR', 'II', 'III'];

export const STREETS = [
  'MAIN ST',
  'ELM ST',
  'WASHINGTON ST',
  'CENTRE ST',
  'BLUE HILL AVE',
  'DORCHESTER AVE',
  'COMMONWEALTH AVE',
  'TREMONT ST',
  'HANCOCK ST',
  'BROADWAY',
  'PLEASANT ST',
  'HIGHLAND AVE',
  'SUMMER ST',
  'WATER ST',
  'UNION ST',
];

/** [city, zip prefix, county FIPS] */
export const CITIES = /** @type {const} */ ([
  ['BOSTON', '021', '25025'],
  ['WORCESTER', '016', '25027'],
  ['SPRINGFIELD', '011', '25013'],
  ['LOWELL', '018', '25017'],
  ['BROCKTON', '023', '25023'],
  ['NEW BEDFORD', '027', '25005'],
  ['FALL RIVER', '027', '25005'],
  ['LAWRENCE', '018', '25009'],
  ['LYNN', '019', '25009'],
  ['QUINCY', '021', '25021'],
  ['CHELSEA', '021', '25025'],
  ['HOLYOKE', '010', '25013'],
]);

/** CDC race and ethnicity codes (v2-to-FHIR uses CDCREC for US Core). */
export const RACES = /** @type {Weighted} */ ([
  [['2106-3', 'White'], 55],
  [['2054-5', 'Black or African American'], 20],
  [['2028-9', 'Asian'], 8],
  [['1002-5', 'American Indian or Alaska Native'], 1],
  [['2076-8', 'Native Hawaiian or Other Pacific Islander'], 1],
  [['2131-1', 'Other Race'], 15],
]);
export const ETHNICITIES = /** @type {Weighted} */ ([
  [['2135-2', 'Hispanic or Latino'], 30],
  [['2186-5', 'Not Hispanic or Latino'], 70],
]);

/** [ISO 639-1 code, text] */
export const LANGUAGES = /** @type {Weighted} */ ([
  [['en', 'English'], 70],
  [['es', 'Spanish'], 18],
  [['pt', 'Portuguese'], 4],
  [['ht', 'Haitian Creole'], 3],
  [['vi', 'Vietnamese'], 3],
  [['zh', 'Chinese'], 2],
]);

/** HL7 table 0002 */
export const MARITAL = /** @type {Weighted} */ ([
  [['S', 'Single'], 45],
  [['M', 'Married'], 30],
  [['D', 'Divorced'], 12],
  [['W', 'Widowed'], 8],
  [['U', 'Unknown'], 5],
]);

/** HL7 table 0063 [code, text] */
export const RELATIONSHIPS = /** @type {const} */ ([
  ['SPO', 'Spouse'],
  ['MTH', 'Mother'],
  ['FTH', 'Father'],
  ['CHD', 'Child'],
  ['SIB', 'Sibling'],
  ['FND', 'Friend'],
  ['GRD', 'Guardian'],
  ['DOM', 'Life partner'],
]);

/**
 * Sending facilities: [HD namespace, OID, display name, sending application].
 * Names with '&' exercise the \T\ escape.
 */
export const FACILITIES = /** @type {const} */ ([
  ['BMC', '2.16.840.1.113883.3.9001.1', 'Bayview Medical Center', 'EPIC'],
  ['STJ', '2.16.840.1.113883.3.9001.2', "St. Jude's Hospital & Clinics", 'CERNER'],
  ['NSH', '2.16.840.1.113883.3.9001.3', 'North Shore Health', 'MEDITECH'],
  ['WCH', '2.16.840.1.113883.3.9001.4', 'Worcester Community Hospital', 'EPIC'],
  ['PVH', '2.16.840.1.113883.3.9001.5', 'Pioneer Valley Behavioral & Medical', 'ALLSCRIPTS'],
]);

/** [point of care, description, hospital service (PV1-10)] */
export const UNITS = /** @type {const} */ ([
  ['ED', 'Emergency Department', 'EMR'],
  ['4N', '4 North Medical', 'MED'],
  ['5S', '5 South Surgical', 'SUR'],
  ['ICU', 'Intensive Care', 'MED'],
  ['CCU', 'Cardiac Care', 'CAR'],
  ['BH2', 'Behavioral Health 2', 'PSY'],
  ['OBS', 'Observation', 'MED'],
  ['L&D', 'Labor & Delivery', 'OBS'],
]);

/** ICD-10-CM [code, description]; some descriptions contain '&' or ',' on purpose. */
export const DIAGNOSES = /** @type {const} */ ([
  ['R07.9', 'Chest pain, unspecified'],
  ['J44.1', 'COPD with (acute) exacerbation'],
  ['I50.9', 'Heart failure, unspecified'],
  ['E11.65', 'Type 2 diabetes mellitus with hyperglycemia'],
  ['F10.239', 'Alcohol dependence with withdrawal, unspecified'],
  ['F32.9', 'Major depressive disorder, single episode'],
  ['N39.0', 'Urinary tract infection, site not specified'],
  ['J18.9', 'Pneumonia, unspecified organism'],
  ['R55', 'Syncope & collapse'],
  ['S72.001A', 'Fracture of unsp part of neck of right femur, init'],
  ['K35.80', 'Unspecified acute appendicitis'],
  ['F20.9', 'Schizophrenia, unspecified'],
  ['O80', 'Encounter for full-term uncomplicated delivery'],
  ['T40.2X1A', 'Poisoning by other opioids, accidental'],
]);

/** HL7 table 0112 [code, text] (A03 only). */
export const DISPOSITIONS = /** @type {Weighted} */ ([
  [['01', 'Discharged to home or self care'], 60],
  [['06', 'Discharged to home under care of home health'], 12],
  [['03', 'Discharged to skilled nursing facility'], 10],
  [['07', 'Left against medical advice'], 5],
  [['02', 'Discharged to short term general hospital'], 4],
  [['65', 'Discharged to psychiatric hospital'], 5],
  [['62', 'Discharged to inpatient rehab facility'], 3],
  [['20', 'Expired'], 1],
]);

/** Primary care organizations for PD1-3; '&' exercises \T\. */
export const PCP_PRACTICES = [
  'Family Health & Wellness Center',
  'Dorchester Community Health',
  'Greater Lowell Primary Care',
  'Harbor Health Services',
  'Springfield Family Medicine & Pediatrics',
  'Codman Square Health Center',
];

/** Accountable Care Organizations and Community Partners for the Z-segment. */
export const ACOS = /** @type {const} */ ([
  ['ACO01', 'Commonwealth Care Alliance ACO'],
  ['ACO02', 'Harbor & Bay Accountable Care'],
  ['ACO03', 'Pioneer Valley ACO'],
]);
export const COMMUNITY_PARTNERS = ['CP-BH-017', 'CP-LTSS-004', 'CP-BH-022', 'CP-LTSS-009'];

export const AREA_CODES = ['617', '857', '508', '774', '413', '978', '781', '339'];
