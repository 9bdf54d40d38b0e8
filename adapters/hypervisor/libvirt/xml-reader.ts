// Reading libvirt's XML back (dumpxml) with fast-xml-parser, set up so that every document has the same
// shape whatever it contains: each element is an object (attributes under `@_name`, text under
// `#text`), each child list is an array even with one child, no value is converted to a number. The
// accessors below then never have to guess whether a field is a string, an object or an array.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlNode = { readonly [key: string]: unknown };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  alwaysCreateTextNode: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Also decodes character references (&#10;), which libvirt and our writer use for newlines and tabs
  // in attributes; `&amp;` is decoded last, so `&amp;#10;` stays the literal text `&#10;`.
  htmlEntities: true,
});

export class XmlReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlReadError';
  }
}

/** The root element named `root` of an XML document. */
export function parseXmlDocument(xml: string, root: string): XmlNode {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new XmlReadError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const document = parser.parse(xml) as XmlNode;
  const [node] = childNodes(document, root);
  if (!node) throw new XmlReadError(`the XML document has no <${root}> element`);
  return node;
}

function asNode(value: unknown): XmlNode | undefined {
  // An empty element (<acpi/>) comes back as an empty string.
  if (value === '') return {};
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

/** The child elements of that name, in document order. */
export function childNodes(node: XmlNode, name: string): XmlNode[] {
  const value = node[name];
  if (!Array.isArray(value)) return [];
  return value.map(asNode).filter((child): child is XmlNode => child !== undefined);
}

export function firstChild(node: XmlNode, name: string): XmlNode | undefined {
  return childNodes(node, name)[0];
}

export function attributeOf(node: XmlNode, name: string): string | undefined {
  const value = node[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}

export function textOf(node: XmlNode): string {
  const value = node['#text'];
  return typeof value === 'string' ? value : '';
}

/** Child element names with their nodes, for elements whose children are not known in advance (metadata). */
export function elementEntries(node: XmlNode): Array<[string, XmlNode[]]> {
  return Object.keys(node)
    .filter((key) => !key.startsWith('@_') && key !== '#text')
    .map((key) => [key, childNodes(node, key)]);
}
