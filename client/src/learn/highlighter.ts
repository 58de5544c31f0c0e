/**
 * Syntax highlighting of the bank's fenced code (issue 21): lowlight (highlight.js grammars, as a
 * syntax tree rather than an HTML string) with only the languages the bank writes, turned into React
 * elements. Nothing is injected as HTML and nothing is styled inline: every token is a `<span>` with
 * highlight.js's class (`hljs-keyword`, …), coloured by `learn.css`, so the server's
 * Content-Security-Policy needs nothing new.
 *
 * This module is loaded on demand by `CodeBlock` (a dynamic import), so the landing page's script
 * does not carry the grammars.
 */
import { createElement, type ReactNode } from 'react'
import { createLowlight } from 'lowlight'
import bash from 'highlight.js/lib/languages/bash'
import ini from 'highlight.js/lib/languages/ini'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import yaml from 'highlight.js/lib/languages/yaml'
import { languageOf } from './languages'

const lowlight = createLowlight({ bash, ini, javascript, json, python, sql, typescript, yaml })

/** A node of lowlight's tree (hast): an element's children are of the same kinds. */
type Node = ReturnType<typeof lowlight.highlight>['children'][number]

/** Highlighted tokens of `code` in the fence language `lang`, or null when it is not one we know. */
export function highlight(lang: string, code: string): ReactNode[] | null {
  const grammar = languageOf(lang)
  if (!grammar || !lowlight.registered(grammar)) return null
  return lowlight.highlight(grammar, code).children.map(toReact)
}

function toReact(node: Node, key: number): ReactNode {
  if (node.type === 'text') return node.value
  if (node.type !== 'element') return null
  const cls = node.properties.className
  const className = Array.isArray(cls) ? cls.join(' ') : typeof cls === 'string' ? cls : undefined
  return createElement(node.tagName, { key, className }, ...node.children.map(toReact))
}
