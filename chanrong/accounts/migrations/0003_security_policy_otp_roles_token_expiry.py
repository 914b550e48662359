# Issue 15: 三权分立 roles, password policy fields and history, token expiry
# and mTLS binding, login throttle keyed by (account, address) / address.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_old_throttles(apps, schema_editor):
    # Per-username counters cannot become (account, address) ones; they are
    # short-lived state (15 minutes), so a fresh start loses nothing.
    apps.get_model("accounts", "LoginThrottle").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_initial'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        migrations.RunPython(forget_old_throttles, migrations.RunPython.noop),
        migrations.CreateModel(
            name='PasswordHistory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('password', models.CharField(max_length=128)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': '历史密码',
                'verbose_name_plural': '历史密码',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AlterModelOptions(
            name='loginthrottle',
            options={'verbose_name': '登录限制', 'verbose_name_plural': '登录限制'},
        ),
        migrations.RemoveConstraint(
            model_name='user',
            name='user_organisation_matches_role',
        ),
        migrations.RemoveField(
            model_name='loginthrottle',
            name='username',
        ),
        migrations.AddField(
            model_name='apitoken',
            name='client_cert_sha256',
            field=models.CharField(blank=True, max_length=64, verbose_name='绑定客户端证书 SHA-256'),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(null=True, verbose_name='到期时间'),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='revoked_reason',
            field=models.CharField(blank=True, max_length=24, verbose_name='吊销原因'),
        ),
        migrations.AddField(
            model_name='loginthrottle',
            name='audited_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='loginthrottle',
            name='key',
            field=models.CharField(default='', max_length=255),
        ),
        migrations.AddField(
            model_name='loginthrottle',
            name='scope',
            field=models.CharField(choices=[('pair', '账户+地址'), ('address', '地址'), ('account', '账户')], default='pair', max_length=8),
        ),
        migrations.AddField(
            model_name='loginthrottle',
            name='unaudited',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='user',
            name='must_change_password',
            field=models.BooleanField(default=False, verbose_name='下次登录须修改密码'),
        ),
        migrations.AddField(
            model_name='user',
            name='password_changed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='密码修改时间'),
        ),
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('enterprise_user', '企业用户'), ('institution_staff', '金融机构业务人员'), ('institution_manager', '金融机构管理员'), ('gov_staff', '政府工作人员'), ('gov_admin', '政府管理员'), ('platform_admin', '平台管理员'), ('security_admin', '安全管理员'), ('audit_admin', '审计管理员')], max_length=24, verbose_name='角色'),
        ),
        migrations.AddConstraint(
            model_name='loginthrottle',
            constraint=models.UniqueConstraint(fields=('scope', 'key'), name='login_throttle_scope_key'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('agency__isnull', True), ('enterprise__isnull', False), ('institution__isnull', True), ('role', 'enterprise_user')), models.Q(('agency__isnull', True), ('enterprise__isnull', True), ('institution__isnull', False), ('role__in', ['institution_staff', 'institution_manager'])), models.Q(('agency__isnull', False), ('enterprise__isnull', True), ('institution__isnull', True), ('role__in', ['gov_staff', 'gov_admin'])), models.Q(('agency__isnull', True), ('enterprise__isnull', True), ('institution__isnull', True), ('role__in', ['platform_admin', 'security_admin', 'audit_admin'])), _connector='OR'), name='user_organisation_matches_role'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('is_superuser', False), ('role', 'platform_admin'), _connector='OR'), name='user_superuser_only_platform_admin'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('is_staff', False), ('role__in', ['platform_admin', 'security_admin']), _connector='OR'), name='user_staff_only_system_or_security_admin'),
        ),
        migrations.AddField(
            model_name='passwordhistory',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='password_history', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='loginthrottle',
            name='key',
            field=models.CharField(max_length=255),
        ),
    ]
