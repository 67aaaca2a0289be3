import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import { InternalTokenGuard, describeZodError } from '@switchboard/identity';
import { ApiCall, ApiCallService, ApiResult } from './api-call.service';
import { AppKeysService, appView, createAppSchema, patchAppSchema } from './app-keys.service';

const callSchema = z.object({
  method: z.string().max(200),
  httpMethod: z.string().max(10),
  params: z.array(z.tuple([z.string(), z.string()])).max(1000),
  undecodable: z.boolean(),
  remoteAddress: z.string().nullable(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestException(describeZodError(r.error));
  return r.data;
}

/** The auth service's internal endpoints of the application API (the gateway and admin call them). */
@ApiExcludeController()
@Controller('internal')
@UseGuards(InternalTokenGuard)
export class ApiInternalController {
  constructor(
    private readonly calls: ApiCallService,
    private readonly keys: AppKeysService,
  ) {}

  @Post('api/call')
  @HttpCode(200)
  call(@Body() body: unknown): Promise<ApiResult> {
    return this.calls.call(parse(callSchema, body) as ApiCall);
  }

  @Post('admin/apps')
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const { entity, secret } = await this.keys.create(parse(createAppSchema, body));
    return { ...appView(entity), secret };
  }

  @Get('admin/apps')
  async list() {
    return (await this.keys.list()).map(appView);
  }

  @Patch('admin/apps/:key')
  async patch(@Param('key') key: string, @Body() body: unknown) {
    const updated = await this.keys.patch(key, parse(patchAppSchema, body));
    if (!updated) throw new NotFoundException('no such application key');
    return appView(updated);
  }

  @Post('admin/apps/:key/rotate-secret')
  @HttpCode(200)
  async rotate(@Param('key') key: string) {
    const secret = await this.keys.rotate(key);
    if (!secret) throw new NotFoundException('no such application key');
    return { api_key: key, secret };
  }

  @Delete('admin/apps/:key')
  @HttpCode(204)
  async remove(@Param('key') key: string) {
    if (!(await this.keys.remove(key))) throw new NotFoundException('no such application key');
  }

  @Get('admin/apps/:key/usage')
  async usage(@Param('key') key: string, @Query('days') days?: string) {
    if (!(await this.keys.get(key))) throw new NotFoundException('no such application key');
    const n = days === undefined ? 7 : Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 31) throw new BadRequestException('days must be a whole number from 1 to 31');
    return { api_key: key, days: await this.calls.usage(key, n) };
  }
}
