// Exports that show exactly the design (issue 24, item 1): the SVG is real shapes and text with one
// path per edge (opened in the browser and counted), the PNG is that SVG at 2×, copy-as-image puts
// the PNG on the clipboard, and none of them shows another participant's cursor or selection.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { blogDesign } from './designs.mjs'
import { createRoom, hoverCanvas, roomUrl, screenshots, setup, shot, waitFor } from './harness.mjs'

const env = setup()

// the blog design, plus a replica below and left of the app (its edge turns down) and a note
const blog = blogDesign({ primaryY: -120 })
const DESIGN = {
  nodes: [
    ...blog.nodes,
    { id: 'r', type: 'db_replica', label: 'Replica', x: 320, y: 200, params: {} },
    { id: 'n', type: 'note', label: 'Reads go to the replica', x: 0, y: 200, params: {} },
  ],
  edges: [...blog.edges, { id: 'e4', from: 'a', to: 'r', label: 'reads' }],
}

async function open(name, url) {
  const p = await env.person(name)
  await p.page.setViewportSize({ width: 1440, height: 900 })
  await p.page.goto(url)
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  await p.page.locator('.palette-item').first().waitFor()
  return p
}

async function openMenu(page) {
  const details = page.locator('details', {
    has: page.locator('summary', { hasText: 'Export' }),
  })
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click()
}

async function download(page, label) {
  await openMenu(page)
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: label, exact: true }).click()])
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) }
}

/** A PNG's size from its IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file')
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

describe('exports', () => {
  it('SVG, PNG at 2× and the clipboard show the design with its edges, and no presence', async () => {
    const created = await createRoom(env.server.base, 'tutorial-simple-blog')
    const ann = await open('Ann', roomUrl(env.server.base, created, 'edit'))
    await openMenu(ann.page)
    await ann.page.locator('input[type=file]').setInputFiles({
      name: 'd.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(DESIGN)),
    })
    await waitFor(async () => (await ann.page.locator('.react-flow__edge').count()) === 4, 'four edges on the canvas')

    // Ben is in the room: his cursor and his selection ring show on Ann's canvas
    const ben = await open('Ben', roomUrl(env.server.base, created, 'edit'))
    await ben.page.locator('.react-flow__node[data-id="a"]').click()
    await hoverCanvas(ben.page, 700, 650)
    await ann.page.getByTestId('remote-cursor').filter({ hasText: 'Ben' }).waitFor()
    // the ring says whose it is (issue 24, item 7)
    await ann.page.getByTestId('selection-tag').filter({ hasText: 'Ben' }).waitFor()
    await waitFor(
      async () => (await ann.page.locator('.react-flow__node[data-id="a"] .tb-node').getAttribute('style'))?.includes('box-shadow'),
      'Ben’s ring at Ann',
    )
    await ann.page.locator('.react-flow__node[data-id="l"]').click()
    await shot(ann.page, 'export-room.png')

    // the SVG: shapes and text, small, no screen copy
    const svg = await download(ann.page, 'SVG image')
    assert.match(svg.name, /\.svg$/)
    const text = svg.bytes.toString()
    assert.ok(svg.bytes.length < 40_000, `the SVG is ${svg.bytes.length} bytes`)
    assert.doesNotMatch(text, /foreignObject|<image|data:image/)
    assert.doesNotMatch(text, /Ben|Ann/, 'no participant names (cursors) in the picture')
    const file = path.join(screenshots, 'export-design.svg')
    writeFileSync(file, svg.bytes)

    // opened in the browser: four edge paths drawn with arrowheads, six nodes, every label
    const viewer = await env.person('Viewer')
    await viewer.page.goto(pathToFileURL(file).href)
    const drawn = await viewer.page.evaluate(() => {
      const svgEl = document.documentElement
      return {
        root: svgEl.tagName,
        edges: [...document.querySelectorAll('path.tb-edge')].map((p) => ({
          id: p.dataset.id,
          length: p.getTotalLength(),
          marker: p.getAttribute('marker-end'),
        })),
        nodes: document.querySelectorAll('g.tb-node').length,
        texts: [...document.querySelectorAll('text')].map((t) => t.textContent),
        size: [svgEl.width.baseVal.value, svgEl.height.baseVal.value],
      }
    })
    assert.equal(drawn.root, 'svg')
    assert.deepEqual(
      drawn.edges.map((e) => e.id),
      ['e1', 'e2', 'e3', 'e4'],
    )
    for (const e of drawn.edges) {
      assert.ok(e.length > 50, `edge ${e.id} is drawn (${e.length} px long)`)
      assert.equal(e.marker, 'url(#tb-arrow)')
    }
    assert.equal(drawn.nodes, 6)
    for (const t of [
      'Readers',
      'Load Balancer',
      'Blog API',
      'Posts DB',
      'Replica',
      'Reads go to the replica',
      'HTTPS',
      'writes',
      'reads',
      '× 3',
    ]) {
      assert.ok(drawn.texts.includes(t), `"${t}" in the SVG (${drawn.texts.join(' | ')})`)
    }
    await viewer.page.setViewportSize({
      width: Math.ceil(drawn.size[0]),
      height: Math.ceil(drawn.size[1]),
    })
    await shot(viewer.page, 'export-svg-opened.png')

    // the PNG: the same picture at twice its size
    const png = await download(ann.page, 'PNG image')
    assert.match(png.name, /\.png$/)
    const size = pngSize(png.bytes)
    assert.deepEqual(size, {
      width: Math.round(drawn.size[0] * 2),
      height: Math.round(drawn.size[1] * 2),
    })
    writeFileSync(path.join(screenshots, 'export-design.png'), png.bytes)

    // copy as image: a PNG of the same size on the clipboard
    await ann.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: env.server.base,
    })
    await openMenu(ann.page)
    await ann.page.getByRole('button', { name: 'Copy as image' }).click()
    await ann.page.getByRole('status').filter({ hasText: 'Copied the design as an image' }).waitFor()
    const clip = await ann.page.evaluate(async () => {
      const [item] = await navigator.clipboard.read()
      const blob = await item.getType('image/png')
      const bitmap = await createImageBitmap(blob)
      return { types: item.types, width: bitmap.width, height: bitmap.height }
    })
    assert.deepEqual(clip, { types: ['image/png'], ...size })
    assert.deepEqual([...ann.errors, ...ben.errors, ...viewer.errors], [])
  })
})
