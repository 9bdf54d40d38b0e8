// A minimal XML writer for domain definitions. Every value that ends up in the document goes through
// the escaping here, so a name or path with `<`, `&` or quotes can neither break the document nor add
// elements to it. Characters XML 1.0 cannot carry at all are refused rather than silently dropped.

export type XmlAttributes = Readonly<Record<string, string | number | undefined>>;

export interface XmlElement {
  readonly name: string;
  readonly attributes: XmlAttributes;
  readonly children: ReadonlyArray<XmlElement | string>;
}

/** `undefined` attributes are left out, so optional ones can be written inline. */
export function element(name: string, attributes: XmlAttributes = {}, ...children: ReadonlyArray<XmlElement | string | null>): XmlElement {
  return { name, attributes, children: children.filter((child): child is XmlElement | string => child !== null) };
}

// Tab, newline, carriage return and everything from U+0020 except the non-characters U+FFFE/U+FFFF and
// lone surrogates (which `u`-mode matching sees as single code units).
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

function representable(value: string): string {
  const bad = NOT_XML.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).padStart(4, '0');
    throw new RangeError(`U+${code} cannot be written in an XML document`);
  }
  return value;
}

export function escapeXmlText(value: string): string {
  return representable(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Also escapes both quotes and the whitespace a parser would otherwise normalise to spaces. */
export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value)
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
    .replaceAll('\t', '&#9;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\r', '&#13;');
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

function renderElement(node: XmlElement, indent: string): string {
  if (!NAME.test(node.name)) throw new RangeError(`invalid XML element name ${JSON.stringify(node.name)}`);
  const attributes = Object.entries(node.attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => {
      if (!NAME.test(key)) throw new RangeError(`invalid XML attribute name ${JSON.stringify(key)}`);
      return ` ${key}="${escapeXmlAttribute(String(value))}"`;
    })
    .join('');
  const open = `${indent}<${node.name}${attributes}`;
  if (node.children.length === 0) return `${open}/>`;
  if (node.children.every((child) => typeof child === 'string')) {
    return `${open}>${node.children.map((child) => escapeXmlText(child as string)).join('')}</${node.name}>`;
  }
  const inner = node.children
    .map((child) => (typeof child === 'string' ? `${indent}  ${escapeXmlText(child)}` : renderElement(child, `${indent}  `)))
    .join('\n');
  return `${open}>\n${inner}\n${indent}</${node.name}>`;
}

/** The document, indented by two spaces per level, with a trailing newline. */
export function renderXml(root: XmlElement): string {
  return `${renderElement(root, '')}\n`;
}
