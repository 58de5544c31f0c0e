import { describe, expect, it } from 'vitest'
import type { ComponentDef, ParamDef } from './api'
import { Catalog, keyParams, paramError, parseParamInput, rangeText } from './catalog'

const instances: ParamDef = { name: 'instances', type: 'integer', unit: null, default: 1, min: 1, max: 10000, description: 'fleet size' }
const hitRate: ParamDef = {
  name: 'hit_rate',
  type: 'number',
  unit: null,
  default: 0.8,
  min: 0,
  max: 1,
  description: 'share of reads served',
}
const ttl: ParamDef = { name: 'ttl', type: 'integer', unit: 's', default: 300, min: 0, description: '' }
const engine: ParamDef = { name: 'engine', type: 'string', default: 'redis' }
const cluster: ParamDef = { name: 'cluster', type: 'boolean', default: false }
const cache: ComponentDef = {
  type: 'cache',
  name: 'Cache',
  kind: 'cache',
  family: 'cache',
  icon: 'zap',
  aliases: ['redis'],
  params: [instances, hitRate, ttl, engine, cluster],
}

describe('Catalog', () => {
  it('finds types and their aliases, and names unknown types by id', () => {
    const c = new Catalog([cache])
    expect(c.get('cache')).toBe(cache)
    expect(c.get('redis')).toBe(cache)
    expect(c.name('cache')).toBe('Cache')
    expect(c.name('note')).toBe('Note')
    expect(c.name('mystery')).toBe('mystery')
  })
})

describe('parameter checks', () => {
  it('checks type and range', () => {
    expect(paramError(hitRate, 0.5)).toBeNull()
    expect(paramError(hitRate, 1.5)).toBe('must be at most 1')
    expect(paramError(hitRate, -1)).toBe('must be at least 0')
    expect(paramError(instances, 2.5)).toBe('must be a whole number')
    expect(paramError(instances, 'x')).toBe('must be a number')
    expect(paramError(cluster, 'yes')).toBe('must be true or false')
    expect(paramError(engine, 3)).toBe('must be text')
    expect(paramError(instances, undefined)).toBeNull()
  })

  it('parses typed input into values or errors', () => {
    expect(parseParamInput(instances, '8')).toEqual({ value: 8 })
    expect(parseParamInput(instances, ' ')).toEqual({ value: undefined })
    expect(parseParamInput(instances, 'eight')).toEqual({ error: 'must be a number' })
    expect(parseParamInput(instances, '0')).toEqual({ error: 'must be at least 1' })
    expect(parseParamInput(hitRate, '0.95')).toEqual({ value: 0.95 })
    expect(parseParamInput(engine, ' memcached ')).toEqual({ value: 'memcached' })
    expect(parseParamInput(cluster, true)).toEqual({ value: true })
  })

  it('describes ranges', () => {
    expect(rangeText(hitRate)).toBe('0 – 1')
    expect(rangeText(ttl)).toBe('≥ 0')
    expect(rangeText({ name: 'x', type: 'number', max: 5 })).toBe('≤ 5')
    expect(rangeText(engine)).toBe('')
  })

  it('summarises non-default parameters, instances apart', () => {
    expect(keyParams(cache, { instances: 4, hit_rate: 0.8 })).toEqual([])
    expect(keyParams(cache, { hit_rate: 0.95, ttl: 60, engine: 'memcached' })).toEqual(['hit_rate 0.95', 'ttl 60 s'])
    expect(keyParams(cache, { ttl: 86400 })).toEqual(['ttl 86K s'])
    expect(keyParams(undefined, { custom: 'x' })).toEqual(['custom x'])
  })
})
